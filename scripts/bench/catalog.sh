#!/usr/bin/env bash
# Catalog benchmark: builds the release server, imports a catalog into a fresh SQLite database
# (printing the import time), then load-tests the home page, a category page, a product page
# and a search on loopback with wrk (-t2, CONNECTIONS connections, SECONDS s each after a 2 s
# warm-up), beside nginx (Debian's package) serving a static 13 KB page in the same run, and
# prints one table: requests/s, p99 and the ratio to nginx for each page as
#   - a visitor without a session (most traffic, and every crawler),
#   - a shopper with a cart (a guest session),
#   - a signed-in shopper (an account's session),
# then the visitors' pages again with analytics off (every request above is a browser's and
# is counted), then each page once more with the caches off (CATALOG_CACHE_SECS=0) and one connection,
# which measures what it costs when its queries run.
#
#   scripts/bench/catalog.sh [CONNECTIONS] [SECONDS] [PRODUCTS]
#
# PRODUCTS (default 10000) picks the catalog: 10000 is the shared catalog-10k.jsonl; any
# other size is made once by the shared generator (../shared/datasets/make_catalog.py, the
# same products at every size) and kept under ~/.cache/shop-bench/. CATALOG_DATASET=FILE uses
# a file of your own instead. Set BENCH_DATABASE_URL=postgres://... to run against PostgreSQL
# instead (the database is reset first: use a throwaway one).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

connections=${1:-16}
seconds=${2:-10}
products=${3:-10000}
CATALOG_DATASET=$(bench_dataset "$products")
export CATALOG_DATASET
bench_tools
bench_serve_catalog
bench_nginx

# A product from the category used for listing benchmarks.
product=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
const p = lines.map(l => l && JSON.parse(l)).find(p => p && p.category === "Home & Kitchen > Cookware > Pans");
console.log(p.slug);' "$CATALOG_DATASET")
pages=("/" "/c/pans" "/search?q=cast+iron+pan" "/p/$product")
names=("home" "category page 1" "search" "product page")

# A shopper with a cart: one add to cart makes the guest session.
cart_cookie=$(node -e '
const base = process.argv[1];
(async () => {
  const html = await (await fetch(base + "/c/pans", { headers: { accept: "text/html" } })).text();
  const id = html.match(/name="variant_id" value="([0-9a-f-]{36})"/)[1];
  const res = await fetch(base + "/api/cart/add", { method: "POST", body: `variant_id=${id}&quantity=1`,
    headers: { origin: base, "sec-fetch-site": "same-origin", accept: "application/json",
               "content-type": "application/x-www-form-urlencoded" } });
  if (res.status !== 200) { console.error("add to cart:", res.status); process.exit(1); }
  console.log(res.headers.get("set-cookie").split(";")[0]);
})();' "$base")
# A signed-in shopper: an account made from the command line, signed in through the form.
ADMIN_PASSWORD=bench-password-1 "$CARGO_TARGET_DIR/release/shop" create-admin \
  --email bench@example.com --name "Bench Shopper" >/dev/null
signed_cookie=$(node -e '
const base = process.argv[1];
(async () => {
  const res = await fetch(base + "/api/account/login", { method: "POST",
    body: "email=bench%40example.com&password=bench-password-1",
    headers: { origin: base, "sec-fetch-site": "same-origin", accept: "application/json",
               "content-type": "application/x-www-form-urlencoded" } });
  if (res.status !== 200) { console.error("sign in:", res.status); process.exit(1); }
  console.log(res.headers.get("set-cookie").split(";")[0]);
})();' "$base")

step "wrk -t2 -c$connections, $seconds s per run (after 2 s warm-up)"
read -r static_rps static_p99 < <(bench_wrk "$static_url")
printf '%-34s %10s %9s %8s\n' "page" "req/s" "p99 ms" "x nginx"
row() {
  local label=$1 rps p99
  shift
  read -r rps p99 < <(bench_wrk "$@")
  printf '%-34s %10s %9s %8s\n' "$label" "$rps" "$p99" \
    "$(awk -v a="$rps" -v b="$static_rps" 'BEGIN { printf "%.2f", a / b }')"
}
printf '%-34s %10s %9s %8s\n' "nginx: static 13 KB page" "$static_rps" "$static_p99" "1.00"
for i in "${!pages[@]}"; do
  row "${names[$i]} (visitor)" "$base${pages[$i]}"
done
for i in "${!pages[@]}"; do
  row "${names[$i]} (with a cart)" "$base${pages[$i]}" -H "Cookie: $cart_cookie"
done
for i in "${!pages[@]}"; do
  row "${names[$i]} (signed in)" "$base${pages[$i]}" -H "Cookie: $signed_cookie"
done
# What a browser gets, asking as Chrome and Firefox do: the visitor's page in brotli, compressed
# once; a shopper's in gzip, from the pieces compressed once around their frame. Then a
# client that takes brotli only (no browser): a shopper's page compressed whole per request.
browser_encoding="Accept-Encoding: gzip, deflate, br, zstd"
row "product page (visitor, browser)" "$base${pages[3]}" -H "$browser_encoding"
row "product page (with a cart, browser)" "$base${pages[3]}" -H "Cookie: $cart_cookie" \
  -H "$browser_encoding"
row "product page (with a cart, br only)" "$base${pages[3]}" -H "Cookie: $cart_cookie" \
  -H "Accept-Encoding: br"

# Every request above was a browser's and was counted in the analytics (an event buffered in
# memory per page). The visitors' pages with analytics on and off, alternating twice so that
# the machine's drift falls on both alike, for the cost of counting: from one browser (the
# recorder writes its repeated events once a second, with their count), then with every
# request from a browser never seen before (a row written per request: the worst case).
cat > "$work/new-visitors.lua" <<'LUA'
-- Each request from a visitor not seen before: the user agent carries the thread and a counter.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
request = function()
  n = n + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 v" .. id .. "." .. n
  return wrk.format(nil, nil, headers)
end
LUA
step "the visitors' pages with analytics on and off (ANALYTICS_ENABLED), alternating twice"
for traffic in "one browser" "a new browser each request"; do
  extra=()
  [ "$traffic" = "one browser" ] || extra=(-s "$work/new-visitors.lua")
  declare -A sum_on=() sum_off=()
  for round in 1 2; do
    for mode in true false; do
      bench_restart ANALYTICS_ENABLED=$mode
      for i in "${!pages[@]}"; do
        read -r rps _ < <(bench_wrk "$base${pages[$i]}" "${extra[@]}")
        if [ "$mode" = true ]; then
          sum_on[$i]=$(( ${sum_on[$i]:-0} + rps ))
        else
          sum_off[$i]=$(( ${sum_off[$i]:-0} + rps ))
        fi
      done
    done
    echo "$traffic: round $round done"
  done
  printf '%-34s %10s %10s %8s\n' "$traffic (mean of 2)" "on req/s" "off req/s" "on/off"
  for i in "${!pages[@]}"; do
    on=$(( sum_on[$i] / 2 ))
    off=$(( sum_off[$i] / 2 ))
    printf '%-34s %10s %10s %8s\n' "${names[$i]}" "$on" "$off" \
      "$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')"
  done
  unset sum_on sum_off
done

bench_restart CATALOG_CACHE_SECS=0
step "uncached (CATALOG_CACHE_SECS=0): one connection, $seconds s per page"
for path in "${pages[@]}" "/c/pans?page=5" "/c/home-and-kitchen" "/search?q=shirt"; do
  "$loadgen" "$base$path" 1 "$seconds" 1
done
