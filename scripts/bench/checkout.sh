#!/usr/bin/env bash
# Checkout benchmark: builds the release server, imports the 10k-product dataset into a fresh
# SQLite database (or BENCH_DATABASE_URL: an empty, throwaway PostgreSQL database), then
# on loopback:
#   1. fills CARTS guest carts (one product each) and takes each through the details,
#      shipping and review steps, as the hydrated pages do;
#   2. places all their orders ("Place order and pay", POST /api/checkout/place) from
#      CONCURRENCY buyers at once and prints orders/s, p50 and p99 of the place requests
#      (sent by loadgen, each cart's once, so the load generator leaves the cores to the
#      server);
#   3. the last units: finds a product with a few units left, gives that many buyers plus 45
#      a cart with one each, lets them all place at once, and checks that exactly as many
#      orders as there were units went through, the rest were told it sold out, and none is
#      left to sell (no oversell).
#
#   scripts/bench/checkout.sh [CARTS] [CONCURRENCY]      # default 600 carts, 50 buyers
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

carts=${1:-600}
concurrency=${2:-50}
bench_serve_catalog

step "checkout: $carts carts, $concurrency buyers at once"
node - "$base" "$carts" "$concurrency" "$loadgen" "$work" <<'JS'
const [base, cartCount, concurrency, loadgen, work] =
  [process.argv[2], +process.argv[3], +process.argv[4], process.argv[5], process.argv[6]];
const headers = { origin: base, "sec-fetch-site": "same-origin", accept: "application/json" };

// Plain keep-alive HTTP (lighter than fetch, so the load generator leaves the cores to the
// server): one pooled connection per buyer at most.
const http = require("http");
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency + 8 });
function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

// One guest browser: its session cookie, sent back on every request.
class Buyer {
  constructor() { this.cookie = ""; }
  async post(endpoint, form) {
    const body = new URLSearchParams(form).toString();
    const res = await request("POST", `/api/${endpoint}`, {
      ...headers, "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body),
      ...(this.cookie ? { cookie: this.cookie } : {}),
    }, body);
    const set = res.headers["set-cookie"];
    if (set && set.length) this.cookie = set[0].split(";")[0];
    return { status: res.status, text: res.text };
  }
  async get(path) {
    const res = await request("GET", path, { accept: "text/html", ...(this.cookie ? { cookie: this.cookie } : {}) });
    return res.text;
  }
}

const address = {
  email: "bench@example.com", full_name: "Bench Buyer", line1: "1 Load Street", line2: "",
  city: "Berlin", region: "", postal_code: "10115", country: "DE", phone: "", billing: "same",
};

async function expectOk(what, r) {
  if (r.status >= 400) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
}

// A buyer with `variant` in the cart, at the review step; returns the place form.
async function prepare(variant, method) {
  const b = new Buyer();
  await expectOk("add", await b.post("cart/add", { variant_id: variant, quantity: "1" }));
  await expectOk("details", await b.post("checkout/save-details", address));
  await expectOk("shipping", await b.post("checkout/choose-shipping", { shipping_method: method }));
  const r = await b.post("checkout/review", {});
  await expectOk("review", r);
  const step = JSON.parse(r.text);
  if (!step.Show) throw new Error(`review: ${r.text.slice(0, 300)}`);
  return { buyer: b, form: { reviewed: step.Show.reviewed, idempotency_key: step.Show.idempotency_key } };
}

async function pool(items, width, work) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) { const i = next++; out[i] = await work(items[i], i); }
  }));
  return out;
}

// Every buyer presses "Place order and pay" at once; returns latencies and outcomes.
async function placeAll(prepared) {
  const started = performance.now();
  const results = await pool(prepared, concurrency, async (p) => {
    const t = performance.now();
    const r = await p.buyer.post("checkout/place", p.form);
    return { ms: performance.now() - t, status: r.status, text: r.text };
  });
  return { results, seconds: (performance.now() - started) / 1000 };
}


(async () => {
  // Products listings offer "Add to cart" for.
  const ids = new Set();
  for (let page = 1; page <= 12; page++) {
    const html = (await request("GET", `/c/pans?page=${page}`, { accept: "text/html" })).text;
    for (const m of html.matchAll(/name="variant_id" value="([0-9a-f-]{36})"/g)) ids.add(m[1]);
  }
  for (const path of ["/", "/c/home-and-kitchen", "/c/electronics", "/c/clothing-and-shoes"]) {
    const html = (await request("GET", path, { accept: "text/html" })).text;
    for (const m of html.matchAll(/name="variant_id" value="([0-9a-f-]{36})"/g)) ids.add(m[1]);
  }
  const variants = [...ids];
  if (variants.length < 10) throw new Error("too few products with an add-to-cart button");

  // The shipping method the first buyer is offered.
  const probe = new Buyer();
  await expectOk("add", await probe.post("cart/add", { variant_id: variants[0], quantity: "1" }));
  await expectOk("details", await probe.post("checkout/save-details", address));
  const shippingPage = await probe.get("/checkout/shipping");
  const method = (shippingPage.match(/name="shipping_method" value="([0-9a-f-]{36})"/) || [])[1];
  if (!method) throw new Error("no shipping method offered");

  // 1 and 2: distinct carts, placed at once.
  let t = performance.now();
  const prepared = await pool(Array.from({ length: cartCount }, (_, i) => variants[i % variants.length]), 8,
    (v) => prepare(v, method));
  console.log(`prepared ${cartCount} carts in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  // Each buyer's session cookie and form, placed once each by loadgen (which fails on any
  // 5xx or unanswered request).
  const lines = prepared.map((p) => `${p.buyer.cookie} ${new URLSearchParams(p.form)}`);
  require("fs").writeFileSync(`${work}/place.txt`, lines.join("\n") + "\n");
  const out = require("child_process").execFileSync(loadgen,
    ["--once", `${work}/place.txt`, `${base}/api/checkout/place`, String(concurrency)], { encoding: "utf8" });
  const m = out.match(/p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms \((\d+) requests in ([\d.]+) s.*status: ([^;]*);/);
  if (!m) throw new Error(`loadgen: ${out}`);
  const statuses = Object.fromEntries(m[6].split(", ").map((s) => s.split(" ").reverse()));
  const placed = +(statuses["200"] || 0);
  const refused = +m[4] - placed;
  console.log(`place order: ${placed} placed, ${refused} refused (${m[6]}; a 422 here is a product sold out by earlier carts)`);
  console.log(`place order: ${(placed / +m[5]).toFixed(0)} orders/s, p50 ${m[1]} ms, p99 ${m[2]} ms, max ${m[3]} ms (${concurrency} buyers at once)`);

  // 3: the last units of one product.
  let hot = null, units = 0;
  for (const v of variants.slice(cartCount % variants.length)) {
    const b = new Buyer();
    const r = await b.post("cart/add", { variant_id: v, quantity: "99" });
    if (r.status !== 200) continue;
    const have = JSON.parse(r.text).items;
    await b.post("cart/clear", {});
    if (have >= 3 && have <= 40) { hot = v; units = have; break; }
  }
  if (!hot) throw new Error("no product with 3 to 40 units left found");
  const racers = await pool(Array.from({ length: units + 45 }), 8, () => prepare(hot, method));
  const race = await placeAll(racers);
  const won = race.results.filter((r) => r.status < 400).length;
  const told = race.results.filter((r) => r.status === 422 && r.text.includes("sold out")).length;
  const check = new Buyer();
  const after = await check.post("cart/add", { variant_id: hot, quantity: "1" });
  const none = after.status === 422 && after.text.includes("out of stock");
  console.log(`last units: ${units} units, ${units + 45} buyers at once: ${won} orders, ${told} told it sold out; none left to sell: ${none}`);
  if (won !== units || told !== 45 || !none) {
    console.log(race.results.filter((r) => r.status >= 400 && !r.text.includes("sold out")).slice(0, 3));
    throw new Error("OVERSELL CHECK FAILED");
  }
  console.log("no oversell");
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
