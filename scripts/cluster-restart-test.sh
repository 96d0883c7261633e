#!/usr/bin/env bash
# Rolling-restart test: restarts every web instance of the cluster, one after the other
# (scripts/cluster.sh --restart N), while shoppers read product pages and customers place
# and pay orders through the JSON API, all through nginx (scripts/cluster-restart-load.mjs).
# Fails unless every request got its expected answer (no 5xx, no refused or dropped
# connection) and every order the customers were told was placed is in the database, paid.
# Prints the figures: requests, orders, failures, how long each restart took, and how many
# requests were sent again because nginx's reload closed the keep-alive connection they were
# sent on before reading them (browsers resend those by themselves; see the load script).
#
#   scripts/cluster-restart-test.sh
#
# Uses the cluster in CLUSTER_DIR (default /tmp/shop-cluster) when one runs; it must have
# been started with RATE_LIMIT_PER_MINUTE=0 API_RATE_LIMIT_PER_MINUTE=0, as all the load
# comes from one address. Otherwise starts one (SHOP_BIN picks the binary) and stops it at
# the end (KEEP_CLUSTER=1 leaves it running). BROWSERS and BUYERS (default 4 each) set the
# load; SETTLE_SECS (default 5) is how long the load runs before, between and after the
# restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

state=${CLUSTER_DIR:-/tmp/shop-cluster}
settle=${SETTLE_SECS:-5}
# The load stops by itself after this long, whatever happens to this script.
MAX_LOAD_SECS=900

work=$(mktemp -d /tmp/shop-restart-test.XXXXXX)
started_cluster=0
load_pid=""
cleanup() {
  if [ -n "$load_pid" ]; then
    touch "$work/stop"
    wait "$load_pid" 2>/dev/null || true
  fi
  if [ "$started_cluster" = 1 ] && [ -z "${KEEP_CLUSTER:-}" ]; then
    scripts/cluster.sh --stop >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- the cluster -----------------------------------------------------------------------------
if [ -f "$state/cluster.env" ]; then
  step "using the cluster in $state"
  for var in RATE_LIMIT_PER_MINUTE API_RATE_LIMIT_PER_MINUTE; do
    grep -qx "$var=0" "$state/run/web1.env" ||
      die "the cluster in $state limits requests per address ($var is not 0): this load comes from one address. Restart it: scripts/cluster.sh --stop; RATE_LIMIT_PER_MINUTE=0 API_RATE_LIMIT_PER_MINUTE=0 scripts/cluster.sh"
  done
  # Starts whatever of it is not running (quick when all is).
  scripts/cluster.sh >/dev/null
else
  step "starting a cluster in $state"
  started_cluster=1
  RATE_LIMIT_PER_MINUTE=0 API_RATE_LIMIT_PER_MINUTE=0 scripts/cluster.sh
fi
# The cluster's settings, as scripts/cluster.sh wrote them.
instances="" url="" database_url=""
# shellcheck source=/dev/null
source "$state/cluster.env"
psql_bin="$(pg_bin_dir)/psql"

# --- load, restarts, load --------------------------------------------------------------------
step "load through $url: ${BROWSERS:-4} shoppers reading pages, ${BUYERS:-4} customers ordering"
test_started=$SECONDS
since_ms=$(date +%s%3N)
nginx_log_lines=$(wc -l <"$state/nginx/error.log")
node scripts/cluster-restart-load.mjs "$url" "$work" "$MAX_LOAD_SECS" >"$work/result.json" &
load_pid=$!
for _ in $(seq 1 600); do
  [ -f "$work/started" ] && break
  kill -0 "$load_pid" 2>/dev/null || { wait "$load_pid" || true; load_pid=""; die "the load could not set itself up (see above)"; }
  sleep 0.1
done
[ -f "$work/started" ] || die "the load did not set itself up in 60 s"
sleep "$settle"

restart_secs=()
for ((n = 1; n <= instances; n++)); do
  step "restarting web$n under load"
  t=$SECONDS
  scripts/cluster.sh --restart "$n" >"$work/restart-$n.log" 2>&1 ||
    { cat "$work/restart-$n.log"; die "scripts/cluster.sh --restart $n failed"; }
  restart_secs+=($((SECONDS - t)))
  echo "web$n restarted in ${restart_secs[-1]} s"
  sleep "$settle"
done

step "stopping the load; reading every order back"
touch "$work/stop"
load_ok=1
wait "$load_pid" || load_ok=0
load_pid=""
[ -s "$work/result.json" ] || die "the load printed no result"

# Every order the customers saw placed, in the database and paid; and no order they did not
# see (one placed twice, or whose answer was lost).
read -r db_missing db_unpaid db_orders < <(
  {
    echo "CREATE TEMP TABLE seen (id text PRIMARY KEY);"
    echo "COPY seen FROM STDIN;"
    cat "$work/orders.txt"
    echo '\.'
    echo "SELECT count(*) FILTER (WHERE o.id IS NULL), count(*) FILTER (WHERE o.status <> 'paid'),"
    echo "  (SELECT count(*) FROM orders WHERE email LIKE 'restart-test-%@example.com' AND placed_at >= $since_ms)"
    echo "FROM seen s LEFT JOIN orders o ON o.id = s.id;"
  } | "$psql_bin" -qtA -F ' ' -v ON_ERROR_STOP=1 "$database_url"
)
panics=$(cat "$state"/logs/web*.log | grep -c "panicked" || true)
# Requests nginx had to send to the other instance (a GET that met a closed connection):
# not failures for the client, but worth knowing about.
retried=$(tail -n +"$((nginx_log_lines + 1))" "$state/nginx/error.log" |
  grep -cE "upstream (prematurely closed|timed out)|connect\(\) failed" || true)

node - "$work/result.json" "$db_missing" "$db_unpaid" "$db_orders" "$panics" "$retried" "$((SECONDS - test_started))" \
  "${restart_secs[*]}" <<'JS'
const [file, dbMissing, dbUnpaid, dbOrders, panics, retried, total, restarts] = process.argv.slice(2);
const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
const row = (k, v) => console.log(`${k.padEnd(40)} ${v}`);
console.log();
row("test duration", `${total} s (load ${r.seconds} s)`);
row("restarts (web1, web2, ...)", restarts.split(" ").map((s) => `${s} s`).join(", "));
row("requests through nginx", `${r.requests} (${r.requests_per_second}/s)`);
for (const [kind, k] of Object.entries(r.by_kind)) row(`  ${kind}`, `${k.requests} (${k.failures} failed)`);
row("failed requests", r.failures);
row("resent (keep-alive closed by reload)", r.resent);
row("slowest request", `${r.slowest_ms} ms (${r.slowest})`);
row("orders placed and paid", r.orders);
row("  missing or unpaid via the API", `${r.orders_missing} / ${r.orders_unpaid}`);
row("  missing or unpaid in the database", `${dbMissing} / ${dbUnpaid}`);
row("  test customers' orders in the database", dbOrders);
row("panics in the instances' logs", panics);
row("nginx upstream errors (retried)", retried);
if (r.failed.length) console.log("\nfirst failures:\n" + r.failed.map((f) => JSON.stringify(f)).join("\n"));
JS

placed=$(grep -c . "$work/orders.txt" || true)
if [ "$load_ok" = 1 ] && [ "$db_missing" = 0 ] && [ "$db_unpaid" = 0 ] && [ "$db_orders" = "$placed" ] &&
  [ "$panics" = 0 ]; then
  echo
  echo "Rolling restart: no request failed and no order was lost."
else
  die "the rolling restart lost requests or orders (see above)"
fi
