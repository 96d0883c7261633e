#!/usr/bin/env bash
# Soak test: the release server with the 10k-product catalog under mixed traffic (home,
# department and category listings with filters and pages, searches, product pages, cart
# adds and the cart, sign-ins, the checkout steps, order pages, order handling, webhooks and
# the JSON API)
# from 64 simulated browsers for a while, then SIGTERM.
#
#   scripts/bench/soak.sh [SECONDS] [CONNECTIONS]     # default 60 s, 64 connections
#
# Fails on any panic in the server's log, any 5xx, any request without an answer, or a
# shutdown slower than 5 s. Prints the request count, panics, longest request and shutdown
# time. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

seconds=${1:-60}
connections=${2:-64}
dataset=${CATALOG_DATASET:-../shared/datasets/catalog-10k.jsonl}
log=$(mktemp /tmp/shop-soak-log.XXXXXX)
export BENCH_LOG=$log
bench_serve_catalog

step "building the traffic mix"
node - "$base" "$dataset" "${DEMO_ADMIN_PASSWORD:-demo-admin-password}" > "$work/mix.txt" <<'JS'
const [base, dataset, password] = process.argv.slice(2);
const fs = require("fs");
const products = fs.readFileSync(dataset, "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l));
(async () => {
  const lines = [];
  const listing = ["/c/pans", "/c/pans?page=5", "/c/pans?sort=price_asc&in_stock=1", "/c/home-and-kitchen", "/c/electronics?page=2", "/c/clothing-and-shoes"];
  const searches = ["cast+iron+pan", "shirt", "wireless+headphones", "zzzz-no-such-thing", "lamp"];
  const ids = new Set();
  for (const p of ["/", "/c/pans", "/c/pans?page=2"]) {
    const html = await (await fetch(base + p, { headers: { accept: "text/html" } })).text();
    for (const m of html.matchAll(/name="variant_id" value="([0-9a-f-]{36})"/g)) ids.add(m[1]);
  }
  const adds = [...ids];
  if (adds.length === 0) { console.error("no add-to-cart buttons found"); process.exit(1); }
  // The shipping method a shopper in Germany is offered (read off the shipping step).
  const crypto = require("crypto");
  const headers = { origin: base, "sec-fetch-site": "same-origin", accept: "application/json",
    "content-type": "application/x-www-form-urlencoded" };
  const add = await fetch(`${base}/api/cart/add`, { method: "POST", headers,
    body: `variant_id=${adds[0]}&quantity=1` });
  const cookie = (add.headers.get("set-cookie") || "").split(";")[0];
  await fetch(`${base}/api/checkout/save-details`, { method: "POST", headers: { ...headers, cookie },
    body: "email=soak%40example.com&full_name=Soak&line1=1+Load+Street&city=Berlin&postal_code=10115&country=DE&billing=same",
    redirect: "manual" });
  const shipping = await (await fetch(`${base}/checkout/shipping`, { headers: { accept: "text/html", cookie } })).text();
  const method = (shipping.match(/name="shipping_method" value="([0-9a-f-]{36})"/) || [])[1];
  if (!method) { console.error("no shipping method offered"); process.exit(1); }
  for (let i = 0; i < 40; i++) {
    const p = products[(i * 251) % products.length];
    lines.push("GET /");
    lines.push(`GET ${listing[i % listing.length]}`);
    lines.push(`GET /search?q=${searches[i % searches.length]}`);
    lines.push(`GET /p/${p.slug}`);
    lines.push(`POST /api/cart/add variant_id=${adds[i % adds.length]}&quantity=1`);
    if (i % 8 === 0) lines.push("GET /cart");
    if (i % 20 === 0) lines.push(`POST /api/account/login email=admin%40example.com&password=${encodeURIComponent(password)}`);
    // Checkout: the steps with a cart, a stale review (refused), pages for orders that do not
    // exist or are not the asker's, and forged webhooks.
    if (i % 4 === 0) {
      lines.push("GET /checkout");
      lines.push("POST /api/checkout/save-details email=soak%40example.com&full_name=Soak+Test&line1=1+Load+Street&line2=&city=Berlin&region=&postal_code=10115&country=DE&phone=&billing=same");
      lines.push("GET /checkout/shipping");
      lines.push(`POST /api/checkout/choose-shipping shipping_method=${method}`);
      lines.push("GET /checkout/review");
      lines.push(`POST /api/checkout/place reviewed=stale&idempotency_key=${crypto.randomUUID()}`);
    }
    if (i % 10 === 0) {
      lines.push(`GET /checkout/complete/${crypto.randomUUID()}?t=forged`);
      lines.push(`GET /orders/${crypto.randomUUID()}?t=forged`);
      lines.push("GET /account/orders");
      lines.push("GET /pay/offline/cs_offline_0000");
      lines.push(`POST /webhooks/stripe {"id":"evt_soak","type":"checkout.session.completed"}`);
      lines.push(`POST /webhooks/stripe {"id":"evt_soak_r","type":"refund.updated"}`);
      // Order handling: the staff's list, filtered and exported, and actions on orders that
      // do not exist (or by whoever is not staff on this connection).
      const order = crypto.randomUUID();
      lines.push("GET /admin/orders?payment=paid&sort=total_desc&from=2026-01-01&to=2026-12-31");
      lines.push("GET /admin/export/orders.csv?status=paid");
      lines.push(`GET /admin/orders/${order}`);
      lines.push(`GET /admin/orders/${order}/invoice`);
      lines.push(`POST /api/admin/order-ship order_id=${order}&carrier=DHL&tracking_number=1Z&confirm=yes&qty_${order}=1`);
      lines.push(`POST /api/admin/order-refund order_id=${order}&extra=1.00&reason=soak&confirm=yes`);
      lines.push(`POST /api/admin/order-note order_id=${order}&note=soak`);
      lines.push(`POST /api/account/order-cancel id=${order}&t=forged&confirm=yes`);
      // The notification log: lists, a message that does not exist, its frame, a resend,
      // and the template previews.
      lines.push("GET /admin/notifications?status=retrying&template=order_shipped&to=%40example");
      lines.push("GET /admin/analytics?range=30d");
      lines.push("GET /admin/analytics?range=custom&from=2026-01-01&to=2026-12-31");
      lines.push("POST /api/admin/analytics/report view=funnel&range=today");
      lines.push("GET /admin/analytics/products?range=30d");
      lines.push("GET /admin/analytics/searches?range=7d");
      lines.push("GET /admin/analytics/funnel?range=month");
      lines.push("GET /admin/analytics/carts?range=today");
      lines.push("GET /admin/analytics/export?view=products&table=top-views&range=7d");
      lines.push("GET /admin/analytics/export?view=carts&table=nothing&range=7d");
      // Cart reminders: one asked for a cart that was never left, and a forged stop link.
      lines.push(`POST /api/admin/analytics/remind cart_id=${order}&left_at=1764547200000`);
      lines.push(`GET /reminders/stop?u=${order}&t=forged`);
      lines.push(`POST /api/reminders/stop user=${order}&token=forged`);
      lines.push(`GET /admin/notifications/${order}`);
      lines.push(`GET /admin/notifications/${order}/html`);
      lines.push(`POST /api/admin/notification-resend id=${order}&confirm=yes`);
      lines.push("GET /admin/mail-templates?t=refund_issued");
      lines.push("GET /admin/mail-templates/order_shipped/html");
      // The JSON API: catalog reads, a guest's add, refusals (a forged refresh token, no token,
      // an empty order, another's order, malformed JSON) and the document.
      lines.push("GET /api/v1/categories");
      lines.push("GET /api/v1/products?category=pans&sort=price-asc&page=2");
      lines.push(`GET /api/v1/products/${p.slug}`);
      lines.push("GET /api/v1/search?q=lamp");
      lines.push(`POST /api/v1/cart/items {"variant_id":"${adds[i % adds.length]}","quantity":1}`);
      lines.push(`POST /api/v1/auth/refresh {"refresh_token":"forged-${order}"}`);
      lines.push("GET /api/v1/me");
      lines.push(`POST /api/v1/checkout {"shipping_method_id":"${method}"}`);
      lines.push(`GET /api/v1/orders/${order}`);
      lines.push(`POST /api/v1/cart/items {"variant_id":`);
      lines.push("GET /api/v1/openapi.json");
      // The admin API without a credential, and with a made-up key: refused in the one shape.
      lines.push("GET /api/v1/admin/products?q=lamp");
      lines.push(`GET /api/v1/admin/orders/${order}`);
      lines.push(`POST /api/v1/admin/variants/${order}/stock {"delta":1,"reason":"soak"}`);
      // API keys and webhooks: the pages, a key made and revoked, an endpoint inside the
      // network (refused), the test button on an endpoint nobody has.
      lines.push("GET /admin/api-keys");
      lines.push("GET /admin/webhooks");
      lines.push(`GET /admin/webhooks/${order}`);
      if (i % 40 === 0) lines.push("POST /api/admin/api-key-create name=soak&scope_orders_read=on&expires=30");
      lines.push(`POST /api/admin/api-key-revoke id=${order}`);
      lines.push("POST /api/admin/webhook-save id=&url=http%3A%2F%2F169.254.169.254%2F&event_stock.low=on&active=on");
      lines.push(`POST /api/admin/webhook-test id=${order}`);
      // Saved cards: the list, and removing a card that is nobody's.
      lines.push("GET /account/payment-methods");
      lines.push(`POST /api/account/payment-method-remove id=pm_offline_${order}&confirm=yes`);
    }
  }
  console.log(lines.join("\n"));
})();
JS
echo "$(wc -l < "$work/mix.txt") requests in the mix"

step "soak: $connections connections for $seconds s"
status=0
"$loadgen" --mix "$work/mix.txt" "$base" "$connections" "$seconds" || status=1

step "SIGTERM"
start=$(date +%s%N)
kill -TERM "$bench_pid"
for _ in $(seq 1 100); do
  kill -0 "$bench_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$bench_pid" 2>/dev/null; then
  echo "the server is still running 10 s after SIGTERM; its threads:"
  gdb -p "$bench_pid" -batch -ex 'thread apply all bt' 2>/dev/null | head -200 || true
  kill -KILL "$bench_pid" 2>/dev/null || true
  shutdown_ms=10000
else
  shutdown_ms=$(( ($(date +%s%N) - start) / 1000000 ))
fi
wait "$bench_pid" 2>/dev/null || true
bench_pid=""

panics=$(grep -c -E "panicked|request handler panicked" "$log" || true)
echo "shutdown: ${shutdown_ms} ms; panics in the log: $panics"
if [ "$panics" -gt 0 ]; then
  grep -E -A3 "panicked" "$log" | head -40
  status=1
fi
if [ "$shutdown_ms" -gt 5000 ]; then
  echo "shutdown took longer than 5 s"
  status=1
fi
errors=$(grep -c -E " ERROR " "$log" || true)
echo "error lines in the log: $errors"
grep -E " ERROR " "$log" | head -10 || true
rm -f "$log"
[ "$status" = 0 ] && echo "soak passed" || echo "soak FAILED"
exit "$status"
