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
source scripts/lib.sh

connections=${1:-16}
seconds=${2:-10}
dataset=${CATALOG_DATASET:-../shared/datasets/catalog-10k.jsonl}
[ -f "$dataset" ] || die "dataset not found: $dataset (set CATALOG_DATASET)"

scripts/bootstrap.sh
step "release build"
cargo leptos build --release
cargo build --release --locked -p loadgen

work=$(mktemp -d /tmp/shop-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$work/shop.db}
export SHOP_DATA_DIR=$work LEPTOS_SITE_ADDR=127.0.0.1:$port RUST_LOG=warn
bin=$CARGO_TARGET_DIR/release/shop

step "import $(wc -l < "$dataset") products"
start=$(date +%s%N)
"$bin" seed --catalog "$dataset"
echo "import: $(( ($(date +%s%N) - start) / 1000000 )) ms"

"$bin" serve & pid=$!
for _ in $(seq 1 100); do
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null && { exec 3<&- 3>&-; break; }
  sleep 0.1
done

# A product from the category used for listing benchmarks.
product=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
const p = lines.map(l => l && JSON.parse(l)).find(p => p && p.category === "Home & Kitchen > Cookware > Pans");
console.log(p.slug);' "$dataset")

step "load: $connections connections, $seconds s per page (after 2 s warm-up)"
for path in "/" "/c/pans" "/c/pans?page=5" "/p/$product" "/search?q=cast+iron+pan"; do
  "$CARGO_TARGET_DIR/release/loadgen" "http://127.0.0.1:$port$path" "$connections" "$seconds" 2
done
