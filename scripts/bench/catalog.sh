#!/usr/bin/env bash
# Catalog benchmark: builds the release server, imports a catalog into a fresh SQLite database
# (printing the import time), then load-tests the home page, a category page (pages 1 and 5),
# a product page and searches on loopback, printing requests/s, p50 and p99 for each: first
# with the page cache as shipped, then with it off (CATALOG_CACHE_SECS=0) and one request at
# a time, which measures what each page costs when its queries run (no queueing).
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
bench_serve_catalog

# A product from the category used for listing benchmarks.
product=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
const p = lines.map(l => l && JSON.parse(l)).find(p => p && p.category === "Home & Kitchen > Cookware > Pans");
console.log(p.slug);' "$CATALOG_DATASET")
pages=("/" "/c/pans" "/c/pans?page=5" "/c/home-and-kitchen" "/p/$product" "/search?q=cast+iron+pan" "/search?q=shirt")

step "cached: $connections connections, $seconds s per page (after 2 s warm-up)"
for path in "${pages[@]}"; do
  "$loadgen" "$base$path" "$connections" "$seconds" 2
done

bench_restart CATALOG_CACHE_SECS=0
step "uncached (CATALOG_CACHE_SECS=0): one connection, $seconds s per page"
for path in "${pages[@]}"; do
  "$loadgen" "$base$path" 1 "$seconds" 1
done
