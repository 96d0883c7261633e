# Shared set-up for the benchmarks in scripts/bench/. Source it; do not run it.
#
# bench_serve_catalog: builds the release server and the load generator, imports the 10k-
# product dataset ($CATALOG_DATASET) into a fresh SQLite database (or BENCH_DATABASE_URL,
# which is reset first: use a throwaway one) and serves it on a free loopback port. Sets
# $base (the shop's URL), $work (a scratch folder), $loadgen and $bench_pid (the server);
# everything is stopped and removed when the script exits.

source scripts/lib.sh

bench_serve_catalog() {
  local dataset=${CATALOG_DATASET:-../shared/datasets/catalog-10k.jsonl}
  [ -f "$dataset" ] || die "dataset not found: $dataset (set CATALOG_DATASET)"

  scripts/bootstrap.sh
  step "release build"
  cargo leptos build --release
  cargo build --release --locked -p loadgen
  loadgen=$CARGO_TARGET_DIR/release/loadgen

  work=$(mktemp -d /tmp/shop-bench.XXXXXX)
  bench_pid=""
  trap 'bench_stop' EXIT
  local port bin start
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  export DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$work/shop.db}
  # Benchmarks load from one address: no per-client rate limit.
  export SHOP_DATA_DIR=$work LEPTOS_SITE_ADDR=127.0.0.1:$port RUST_LOG=warn RATE_LIMIT_PER_MINUTE=0
  bin=$CARGO_TARGET_DIR/release/shop
  base="http://127.0.0.1:$port"

  step "import $(wc -l < "$dataset") products"
  start=$(date +%s%N)
  "$bin" seed --catalog "$dataset" >/dev/null
  echo "import: $(( ($(date +%s%N) - start) / 1000000 )) ms"

  # BENCH_LOG: a file for the server's log (the soak test reads it for panics).
  if [ -n "${BENCH_LOG:-}" ]; then
    "$bin" serve >"$BENCH_LOG" 2>&1 & bench_pid=$!
  else
    "$bin" serve & bench_pid=$!
  fi
  for _ in $(seq 1 100); do
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null && { exec 3<&- 3>&-; return 0; }
    sleep 0.1
  done
  die "the server did not start on $base"
}

bench_stop() {
  [ -n "${bench_pid:-}" ] && kill -TERM "$bench_pid" 2>/dev/null
  wait 2>/dev/null
  [ -n "${work:-}" ] && rm -rf "$work"
}
