#!/usr/bin/env bash
# Cluster benchmark: the scaled-out shop (scripts/cluster.sh: nginx in front of two release
# instances on PostgreSQL, with the demo catalog) against one of its instances reached
# directly, on loopback. For a product page (wrk, as the catalog benchmark loads it: first
# uncompressed, then as a browser asks, in brotli) and add to cart (loadgen posting
# /api/cart/add as the product page's island does, each connection one shopper with a cart,
# as in the cart benchmark), prints requests/s and p99 both ways and the ratio.
#
#   scripts/bench/cluster.sh [CONNECTIONS] [SECONDS]      # default 16 connections, 10 s
#
# Builds the release server and loadgen first (BENCH_NO_BUILD=1 uses the last build). The
# cluster runs in a folder of its own and is stopped at the end. On one machine the
# instances, PostgreSQL, nginx and the load generator share its cores: the figures show what
# the proxy costs, not what a second machine would add.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

connections=${1:-16}
seconds=${2:-10}

bench_tools
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  scripts/bootstrap.sh
  step "release build"
  cargo leptos build --release
  cargo build --release --locked -p loadgen
fi
loadgen=$CARGO_TARGET_DIR/release/loadgen

work=$(mktemp -d /tmp/shop-bench-cluster.XXXXXX)
# PostgreSQL runs as the postgres user: it must reach the cluster's folder inside.
chmod 755 "$work"
export CLUSTER_DIR=$work/cluster
cleanup() {
  scripts/cluster.sh --stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "starting the cluster (release build)"
# Benchmarks load from one address: no per-client rate limit.
SHOP_BIN=$CARGO_TARGET_DIR/release/shop RATE_LIMIT_PER_MINUTE=0 API_RATE_LIMIT_PER_MINUTE=0 \
  RUST_LOG=warn scripts/cluster.sh >/dev/null
# The cluster's settings, as scripts/cluster.sh wrote them.
url="" web_ports=()
# shellcheck source=/dev/null
source "$CLUSTER_DIR/cluster.env"
direct="http://127.0.0.1:${web_ports[0]}"

# A product in stock, and the add-to-cart forms for the variants of the first products in
# stock (what the product page's island posts).
node - "$url" "$work" <<'JS'
const [base, work] = process.argv.slice(2);
(async () => {
  const list = await (await fetch(`${base}/api/v1/products?in_stock=true`)).json();
  const adds = [];
  for (const p of list.data.slice(0, 16)) {
    const detail = await (await fetch(`${base}/api/v1/products/${p.slug}`)).json();
    for (const v of detail.variants) if (v.stock_status !== "out_of_stock") adds.push(`variant_id=${v.id}&quantity=1`);
  }
  if (!list.data.length || !adds.length) throw new Error("no product in stock");
  require("fs").writeFileSync(`${work}/product.txt`, list.data[0].slug);
  require("fs").writeFileSync(`${work}/adds.txt`, adds.join("\n") + "\n");
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
product=/p/$(cat "$work/product.txt")

step "load: $connections connections, $seconds s per run (after 2 s warm-up), direct then through nginx"
# loadgen prints "POST /path: N req/s, p50 A ms, p99 B ms, ..."; the row is N and B.
adds() {
  "$loadgen" --post-lines "$work/adds.txt" --session "$1/api/cart/add" "$connections" "$seconds" 2 |
    sed -E 's/.*: ([0-9]+) req\/s, p50 [0-9.]+ ms, p99 ([0-9.]+) ms.*/\1 \2/'
}
row() {
  local label=$1 d n d_rps d_p99 n_rps n_p99
  d=$("${@:2}" "$direct")
  n=$("${@:2}" "$url")
  read -r d_rps d_p99 <<<"$d"
  read -r n_rps n_p99 <<<"$n"
  printf '%-38s %12s %9s %12s %9s %8s\n' "$label" "$d_rps" "$d_p99" "$n_rps" "$n_p99" \
    "$(awk -v a="$n_rps" -v b="$d_rps" 'BEGIN { printf "%.2f", a / b }')"
}
page() { bench_wrk "$2$1"; }
browser_page() { bench_wrk "$2$1" -H "Accept-Encoding: gzip, deflate, br, zstd"; }
printf '%-38s %12s %9s %12s %9s %8s\n' "" "direct req/s" "p99 ms" "nginx req/s" "p99 ms" "nginx/1"
row "product page (visitor)" page "$product"
row "product page (visitor, browser: br)" browser_page "$product"
row "add to cart (a cart per connection)" adds
echo
echo "direct: one instance ($direct); nginx: $url in front of ${#web_ports[@]} instances"
