# Shared set-up for the benchmarks in scripts/bench/. Source it; do not run it.
#
# bench_serve_catalog: builds the release server and the load generator, imports the 10k-
# product dataset (or $CATALOG_DATASET) into a fresh SQLite database (or BENCH_DATABASE_URL,
# which is reset first: use a throwaway one) and serves it on a free loopback port. Sets
# $base (the shop's URL), $work (a scratch folder), $loadgen and $bench_pid (the server);
# everything is stopped and removed when the script exits. BENCH_NO_BUILD=1 skips the build
# and uses the last one (for repeated runs of the same build).

source scripts/lib.sh

bench_serve_catalog() {
  local dataset=${CATALOG_DATASET:-../shared/datasets/catalog-10k.jsonl}
  [ -f "$dataset" ] || die "dataset not found: $dataset (set CATALOG_DATASET)"

  scripts/bootstrap.sh
  if [ -z "${BENCH_NO_BUILD:-}" ]; then
    step "release build"
    cargo leptos build --release
    cargo build --release --locked -p loadgen
  fi
  loadgen=$CARGO_TARGET_DIR/release/loadgen

  work=$(mktemp -d /tmp/shop-bench.XXXXXX)
  bench_pid=""
  trap 'bench_stop' EXIT
  local port start
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  export DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$work/shop.db}
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    command -v psql >/dev/null || die "psql is needed to reset BENCH_DATABASE_URL (apt-get install postgresql-client)"
    step "resetting $BENCH_DATABASE_URL"
    psql "$BENCH_DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null
  fi
  # Benchmarks load from one address: no per-client rate limit.
  export SHOP_DATA_DIR=$work LEPTOS_SITE_ADDR=127.0.0.1:$port RUST_LOG=warn RATE_LIMIT_PER_MINUTE=0
  base="http://127.0.0.1:$port"

  step "import $(wc -l < "$dataset") products"
  start=$(date +%s%N)
  "$CARGO_TARGET_DIR/release/shop" seed --catalog "$dataset" >/dev/null
  echo "import: $(( ($(date +%s%N) - start) / 1000000 )) ms"

  bench_start
}

# Starts the server built by bench_serve_catalog (with any NAME=VALUE settings given) and
# waits until it accepts connections.
bench_start() {
  local bin=$CARGO_TARGET_DIR/release/shop port=${LEPTOS_SITE_ADDR##*:}
  # BENCH_LOG: a file for the server's log (the soak test reads it for panics).
  if [ -n "${BENCH_LOG:-}" ]; then
    env "$@" "$bin" serve >>"$BENCH_LOG" 2>&1 & bench_pid=$!
  else
    env "$@" "$bin" serve & bench_pid=$!
  fi
  for _ in $(seq 1 100); do
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null && { exec 3<&- 3>&-; return 0; }
    sleep 0.1
  done
  die "the server did not start on $base"
}

# Stops the server and starts it again with the given NAME=VALUE settings (same database).
bench_restart() {
  kill -TERM "$bench_pid" 2>/dev/null || true
  wait "$bench_pid" 2>/dev/null || true
  bench_start "$@"
}

# Prints the path of a catalog of PRODUCTS products: the shared 10k file for 10000, else one
# made once by the shared generator and kept under ~/.cache/shop-bench/.
bench_dataset() {
  local products=$1 shared=../shared/datasets
  if [ -n "${CATALOG_DATASET:-}" ]; then echo "$CATALOG_DATASET"; return 0; fi
  [[ $products =~ ^[0-9]+$ ]] && [ "$products" -ge 1 ] || die "PRODUCTS must be a positive number, not $products"
  if [ "$products" = 10000 ]; then echo "$shared/catalog-10k.jsonl"; return 0; fi
  local file=$HOME/.cache/shop-bench/catalog-$products.jsonl
  if [ ! -s "$file" ]; then
    command -v python3 >/dev/null || die "python3 is needed to make a $products-product catalog (apt-get install python3)"
    mkdir -p "$(dirname "$file")"
    python3 "$shared/make_catalog.py" --count "$products" --out "$file.tmp" >&2
    mv "$file.tmp" "$file"
  fi
  echo "$file"
}

# wrk and nginx from Debian's packages (installed once), for the page benchmarks' harness.
bench_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  if [ "${#missing[@]}" -gt 0 ]; then
    step "installing apt packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Starts nginx on a free loopback port serving one static 13 KB HTML page, the yardstick the
# page figures are compared with; sets $static_url. Stopped with the server.
bench_nginx() {
  local port root=$work/static
  mkdir -p "$root" "$work/nginx"
  node -e '
const rows = Array.from({ length: 120 }, (_, i) => `<li><a href="/p/item-${i}">Item ${i}</a> <span>€${(i * 1.37).toFixed(2)}</span></li>`);
let html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Static</title></head><body><ul>${rows.join("\n")}</ul></body></html>`;
while (Buffer.byteLength(html) < 13 * 1024) html = html.replace("</body>", "<p>padding padding padding padding</p></body>");
process.stdout.write(html);' > "$root/index.html"
  # nginx's workers run as another user when started by root: let them read the page.
  chmod o+x "$work"
  chmod -R o+rX "$root"
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  default_type text/html;
  server { listen 127.0.0.1:$port; root $root; index index.html; }
}
CONF
  /usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" & nginx_pid=$!
  static_url="http://127.0.0.1:$port/"
  for _ in $(seq 1 50); do
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null && { exec 3<&- 3>&-; return 0; }
    sleep 0.1
  done
  die "nginx did not start"
}

# A browser's user agent: the load is counted in the analytics as shoppers' visits are (a
# request without one is not).
BENCH_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

# Loads URL with wrk (-t2, $connections connections, $seconds s, after a 2 s warm-up; any
# further arguments go to wrk, e.g. -H 'Cookie: ...') and prints "REQ_PER_S P99_MS". Fails
# on any error or non-2xx/3xx answer.
bench_wrk() {
  local url=$1 out
  shift
  wrk -t2 -c"$connections" -d2s -H "Accept: text/html" -H "User-Agent: $BENCH_USER_AGENT" \
    "$@" "$url" >/dev/null
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Accept: text/html" \
    -H "User-Agent: $BENCH_USER_AGENT" "$@" "$url")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "$out" >&2
    die "errors while loading $url"
  fi
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { printf "%.0f %.1f\n", rps, p99 }' <<<"$out"
}

bench_stop() {
  [ -n "${nginx_pid:-}" ] && kill -TERM "$nginx_pid" 2>/dev/null
  [ -n "${bench_pid:-}" ] && kill -TERM "$bench_pid" 2>/dev/null
  wait 2>/dev/null
  [ -n "${work:-}" ] && rm -rf "$work"
}
