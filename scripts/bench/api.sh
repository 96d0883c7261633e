#!/usr/bin/env bash
# JSON API benchmark: builds the release server, imports the 10k-product catalog into a fresh
# SQLite database, then load-tests the API's product list, product detail and search on
# loopback with wrk (-t2, CONNECTIONS connections, SECONDS s each after a 2 s warm-up), beside
# the HTML pages that show the same things and nginx (Debian's package) serving a static 13 KB
# page in the same run, and prints one table: requests/s, p99 and the ratio to nginx.
#
#   scripts/bench/api.sh [CONNECTIONS] [SECONDS]
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

# A product of the category the list rows use.
product=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
const p = lines.map(l => l && JSON.parse(l)).find(p => p && p.category === "Home & Kitchen > Cookware > Pans");
console.log(p.slug);' "${CATALOG_DATASET:-../shared/datasets/catalog-10k.jsonl}")
rows=(
  "API: product list (GET /api/v1/products?category=pans)|/api/v1/products?category=pans"
  "API: product list, page 3, price order|/api/v1/products?category=pans&sort=price-asc&page=3"
  "API: product detail (GET /api/v1/products/{slug})|/api/v1/products/$product"
  "API: search (GET /api/v1/search?q=cast+iron+pan)|/api/v1/search?q=cast+iron+pan"
  "HTML: category page 1 (/c/pans)|/c/pans"
  "HTML: product page|/p/$product"
)

step "load: $connections connections, $seconds s each (after 2 s warm-up)"
read -r static_rps static_p99 < <(bench_wrk "$static_url")
results=()
for row in "${rows[@]}"; do
  path=${row#*|}
  read -r rps p99 < <(bench_wrk "$base$path" -H "Accept: application/json")
  results+=("${row%%|*}|$rps|$p99")
done
ratio() { awk -v a="$1" -v b="$static_rps" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-56s %10s %9s %8s\n' "" "req/s" "p99 ms" "x nginx"
printf '%-56s %10s %9s %8s\n' "nginx: static 13 KB page" "$static_rps" "$static_p99" "1.00"
for r in "${results[@]}"; do
  IFS='|' read -r name rps p99 <<<"$r"
  printf '%-56s %10s %9s %8s\n' "$name" "$rps" "$p99" "$(ratio "$rps")"
done
