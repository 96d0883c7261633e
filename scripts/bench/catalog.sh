#!/usr/bin/env bash
# Catalog benchmark: builds the release server, imports the 10k-product dataset into a fresh
# SQLite database, then load-tests the home page, a category page (pages 1 and 5), a product
# page and a search on loopback, printing requests/s, p50 and p99 for each.
#
#   scripts/bench/catalog.sh [CONNECTIONS] [SECONDS]
#
# Set BENCH_DATABASE_URL=postgres://... to run against PostgreSQL instead (the database is
# reset first: use a throwaway one).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

connections=${1:-16}
seconds=${2:-10}
dataset=${CATALOG_DATASET:-../shared/datasets/catalog-10k.jsonl}
bench_serve_catalog

# A product from the category used for listing benchmarks.
product=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
const p = lines.map(l => l && JSON.parse(l)).find(p => p && p.category === "Home & Kitchen > Cookware > Pans");
console.log(p.slug);' "$dataset")

step "load: $connections connections, $seconds s per page (after 2 s warm-up)"
for path in "/" "/c/pans" "/c/pans?page=5" "/p/$product" "/search?q=cast+iron+pan"; do
  "$loadgen" "$base$path" "$connections" "$seconds" 2
done
