#!/usr/bin/env bash
# Add-to-cart benchmark: builds the release server, imports the 10k-product dataset into a
# fresh SQLite database, then posts "add to cart" on loopback the way the hydrated product
# page does (POST /api/cart/add), printing requests/s, p50 and p99:
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
bench_serve_catalog

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
echo "returning shoppers (one guest cart per connection):"
"$loadgen" --post-lines "$work/adds.txt" --session \
  "$base/api/cart/add" "$connections" "$seconds" 2
echo "first adds (a new guest cart and session on every request):"
"$loadgen" --post-lines "$work/adds.txt" \
  "$base/api/cart/add" "$connections" "$seconds" 2
