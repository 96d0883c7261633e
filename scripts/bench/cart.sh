#!/usr/bin/env bash
# Add-to-cart benchmark: builds the release server, imports the 10k-product dataset into a
# fresh SQLite database, then posts "add to cart" on loopback the way the hydrated product
# page does (POST /api/cart/add), and prints a table of requests/s, p99 and the ratio to
# nginx (Debian's package) serving a static 13 KB page in the same run (wrk -t2):
#   1. returning shoppers: each connection is one guest with a cart (its session cookie is
#      sent back), adding units of its own product: the common case;
#   2. first adds: no cookie, so every request creates a guest cart and a session.
#
#   scripts/bench/cart.sh [CONNECTIONS] [SECONDS]
#
# Set BENCH_DATABASE_URL=postgres://... to run against PostgreSQL instead (the database is
# reset first: use a throwaway one).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

connections=${1:-16}
seconds=${2:-10}
bench_tools
bench_serve_catalog
bench_nginx

# Products that listings offer "Add to cart" for, read off a few category pages, so the
# requests are exactly what a shopper's browser posts.
node -e '
const base = process.argv[1];
const pages = ["/", "/c/pans", "/c/pans?page=2", "/c/pans?page=3", "/c/pans?page=4"];
(async () => {
  const ids = new Set();
  for (const p of pages) {
    const html = await (await fetch(base + p, { headers: { accept: "text/html" } })).text();
    for (const m of html.matchAll(/name="variant_id" value="([0-9a-f-]{36})"/g)) ids.add(m[1]);
  }
  if (ids.size === 0) { console.error("no products with an add-to-cart button found"); process.exit(1); }
  for (const id of ids) console.log(`variant_id=${id}&quantity=1`);
})();' "$base" > "$work/adds.txt"
echo "$(wc -l < "$work/adds.txt") products to add"

step "load: $connections connections, $seconds s each (after 2 s warm-up)"
read -r static_rps static_p99 < <(bench_wrk "$static_url")
# loadgen prints "POST /path: N req/s, p50 A ms, p99 B ms, ..."; the row is N and B.
adds() {
  "$loadgen" --post-lines "$work/adds.txt" "$@" "$base/api/cart/add" "$connections" "$seconds" 2 |
    tee /dev/stderr | sed -E 's/.*: ([0-9]+) req\/s, p50 [0-9.]+ ms, p99 ([0-9.]+) ms.*/\1 \2/'
}
read -r returning_rps returning_p99 < <(adds --session)
read -r first_rps first_p99 < <(adds)
printf '%-46s %10s %9s %8s\n' "" "req/s" "p99 ms" "x nginx"
printf '%-46s %10s %9s %8s\n' "nginx: static 13 KB page" "$static_rps" "$static_p99" "1.00"
ratio() { awk -v a="$1" -v b="$static_rps" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-46s %10s %9s %8s\n' "add to cart, returning (one cart per connection)" \
  "$returning_rps" "$returning_p99" "$(ratio "$returning_rps")"
printf '%-46s %10s %9s %8s\n' "add to cart, first visit (new cart and session)" \
  "$first_rps" "$first_p99" "$(ratio "$first_rps")"
