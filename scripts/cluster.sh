#!/usr/bin/env bash
# The shop scaled out on this machine, from Debian's packages only: a throwaway PostgreSQL,
# web instances (`shop serve` with RUN_WORKER=false), `shop worker`s, and nginx in front
# of them with deploy/nginx/shop.conf. Each listens on its own free loopback port; nothing
# runs as root (PostgreSQL runs as the postgres user, nginx's workers as nobody, when the
# script is run as root). For trying the scale-out set-up, the rolling-restart test
# (scripts/cluster-restart-test.sh) and the cluster benchmark (scripts/bench/cluster.sh).
#
#   scripts/cluster.sh              # start the cluster (or whatever of it is not running)
#   scripts/cluster.sh --status     # what runs where, and whether it is ready
#   scripts/cluster.sh --restart N  # restart web instance N without failing a request
#   scripts/cluster.sh --stop       # stop what the script started; remove its state folder
#
# Settings, read when the cluster is first started (--stop, then start, to change them):
#   CLUSTER_DIR        state folder: pids, logs, database, nginx's files (/tmp/shop-cluster)
#   CLUSTER_PORT       nginx's port (default: a free one)
#   CLUSTER_INSTANCES  how many web instances (default 2)
#   CLUSTER_WORKERS    how many `shop worker` processes (default 1; with more, each periodic
#                      job runs in one of them at a time: scripts/cluster-jobs-test.sh)
#   SHOP_BIN           the shop binary (default $CARGO_TARGET_DIR/debug/shop; a release
#                      build works too). Nothing is built here: `cargo leptos build` first.
# The shop's processes get every variable of .env.example that is set (RATE_LIMIT_PER_MINUTE,
# MAIL_DIR, SHOP_NAME, ...) and RUST_LOG; DATABASE_URL, LEPTOS_SITE_ADDR, SHOP_DATA_DIR,
# RUN_WORKER and TRUST_PROXY are the cluster's own. PUBLIC_URL defaults to nginx's URL,
# DRAIN_DELAY_SECS to 1, LEPTOS_SITE_ROOT to target/site.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

state=${CLUSTER_DIR:-/tmp/shop-cluster}
# nginx as Debian installs it; the path is fixed so a stray nginx on PATH is never used.
NGINX=/usr/sbin/nginx
# How long an instance may take to become ready (a debug build on a busy machine is slow).
READY_SECS=90
# How long a stopping instance may take: REQUEST_TIMEOUT_SECS (30 by default) for the
# requests in flight, plus DRAIN_DELAY_SECS and a margin.
STOP_SECS=60

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 2
}

# --- processes -------------------------------------------------------------------------------

# Whether the pid in file $1 runs and is still the process we started: its command line holds
# $2 (a pid can be reused once a process has gone).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Sends SIGTERM to the process of pid file $1 (checked with `alive` against $2) and waits up
# to $3 seconds for it to exit, then kills it. Removes the pid file.
stop_process() {
  local file=$1 pattern=$2 seconds=$3 pid
  if alive "$file" "$pattern"; then
    pid=$(cat "$file")
    # It may have exited since `alive` looked.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((seconds * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "pid $pid ($pattern) did not stop in $seconds s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# The HTTP status of a GET of $1 ("000" when nothing answers), within two seconds.
http_status() {
  command -v curl >/dev/null || die "curl is missing (scripts/bootstrap.sh --test installs it)"
  curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
}

# Waits until $1 answers 200, failing if the process of pid file $2 ($3: its pattern) dies
# or READY_SECS pass; $4 names it in messages, whose log is $5.
wait_ready() {
  local url=$1 pidfile=$2 pattern=$3 name=$4 log=$5
  for _ in $(seq 1 $((READY_SECS * 5))); do
    [ "$(http_status "$url")" = 200 ] && return 0
    alive "$pidfile" "$pattern" || { tail -n 20 "$log" >&2; die "$name exited; its log is $log"; }
    sleep 0.2
  done
  die "$name was not ready at $url within $READY_SECS s; its log is $log"
}

# --- settings --------------------------------------------------------------------------------

# Reads the cluster's settings, written by `write_settings` at the first start.
load_settings() {
  [ -f "$state/cluster.env" ] || return 1
  # shellcheck source=/dev/null
  source "$state/cluster.env"
  workers=${workers:-1}
}

# Picks the ports and the binary for a new cluster and writes them down, so later calls
# (a restart, a second start after a crash) use the same ones.
write_settings() {
  local bin=${SHOP_BIN:-$CARGO_TARGET_DIR/debug/shop} i
  [ -x "$bin" ] || die "no shop binary at $bin (build it with \`cargo leptos build\`, or set SHOP_BIN)"
  instances=${CLUSTER_INSTANCES:-2}
  [[ $instances =~ ^[1-9]$ ]] || die "CLUSTER_INSTANCES must be from 1 to 9, not $instances"
  workers=${CLUSTER_WORKERS:-1}
  [[ $workers =~ ^[1-9]$ ]] || die "CLUSTER_WORKERS must be from 1 to 9, not $workers"
  nginx_port=${CLUSTER_PORT:-$(free_port)}
  [[ $nginx_port =~ ^[0-9]+$ ]] || die "CLUSTER_PORT must be a port number, not $nginx_port"
  pg_port=$(free_port)
  web_ports=()
  for ((i = 1; i <= instances; i++)); do web_ports+=("$(free_port)"); done
  shop_bin=$(realpath "$bin")
  url="http://127.0.0.1:$nginx_port"
  database_url="postgres://postgres@127.0.0.1:$pg_port/shop"
  {
    echo "# Written by scripts/cluster.sh at the cluster's first start."
    printf 'instances=%q\nworkers=%q\nnginx_port=%q\npg_port=%q\nweb_ports=(%s)\n' \
      "$instances" "$workers" "$nginx_port" "$pg_port" "${web_ports[*]}"
    printf 'shop_bin=%q\nurl=%q\ndatabase_url=%q\n' "$shop_bin" "$url" "$database_url"
  } >"$state/cluster.env"
}

# The environment of the shop's processes, one NAME=VALUE a line: what was set of the
# variables .env.example documents, then the cluster's own settings. Written once per
# process (into run/, which only this user can read: it may hold secrets), so a restart
# starts it exactly as it was started first.
shop_environment() {
  local name names
  # AWS_*: the credential chain S3 image storage falls back on.
  names=$({
    grep -oE '^#?[A-Z][A-Z0-9_]*=' .env.example | tr -d '#='
    echo RUST_LOG
    compgen -e | grep '^AWS_' || true
  } | sort -u)
  for name in $names; do
    case $name in
      # Set below: the cluster's own, or given defaults.
      DATABASE_URL | LEPTOS_SITE_ADDR | SHOP_DATA_DIR | RUN_WORKER | TRUST_PROXY) continue ;;
      LEPTOS_SITE_ROOT | PUBLIC_URL | DRAIN_DELAY_SECS) continue ;;
    esac
    if [ -n "${!name:-}" ]; then
      [[ ${!name} != *$'\n'* ]] || die "$name holds a line break"
      printf '%s=%s\n' "$name" "${!name}"
    fi
  done
  printf '%s=%s\n' \
    PATH "$PATH" HOME "$HOME" \
    DATABASE_URL "$database_url" \
    SHOP_DATA_DIR "$state/data" \
    LEPTOS_SITE_ROOT "${LEPTOS_SITE_ROOT:-$PWD/target/site}" \
    PUBLIC_URL "${PUBLIC_URL:-$url}" \
    DRAIN_DELAY_SECS "${DRAIN_DELAY_SECS:-1}" \
    TRUST_PROXY true
}

# --- PostgreSQL ------------------------------------------------------------------------------

start_postgres() {
  local bin pgdata=$state/pg log=$state/logs/postgres.log
  bin=$(pg_bin_dir) || die "PostgreSQL is not installed (scripts/bootstrap.sh --test installs it)"
  if alive "$state/run/postgres.pid" "-D $pgdata"; then return 0; fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    step "PostgreSQL: a new database cluster in $pgdata"
    rm -rf "$pgdata"
    mkdir -p "$pgdata"
    [ "$(id -u)" = 0 ] && chown postgres "$pgdata"
    as_pg "$bin/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 >/dev/null
  fi
  touch "$log"
  [ "$(id -u)" = 0 ] && chown postgres "$log"
  step "PostgreSQL on 127.0.0.1:$pg_port"
  # Three web processes' pools (16 connections each by default) and the tools' fit easily.
  # Durability settings stay at their defaults, so the benchmark's writes cost what they would.
  as_pg "$bin/pg_ctl" -D "$pgdata" -l "$log" -w -t 60 \
    -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1 -c max_connections=200" \
    start >/dev/null 9>&-
  head -n 1 "$pgdata/postmaster.pid" >"$state/run/postgres.pid"
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = 'shop'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres shop
  fi
}

stop_postgres() {
  local bin
  [ -f "$state/pg/postmaster.pid" ] || return 0
  bin=$(pg_bin_dir) || return 0
  as_pg "$bin/pg_ctl" -D "$state/pg" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    as_pg "$bin/pg_ctl" -D "$state/pg" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
    { echo "PostgreSQL in $state/pg did not stop" >&2; return 1; }
  rm -f "$state/run/postgres.pid"
}

# --- the shop's processes --------------------------------------------------------------------

# Migrations and demo data, once per cluster (both are idempotent; the marker saves the time).
prepare_database() {
  [ -f "$state/run/seeded" ] && return 0
  local env_file=$state/run/setup.env log=$state/logs/setup.log vars
  shop_environment >"$env_file"
  mapfile -t vars <"$env_file"
  step "migrations and demo data (shop migrate; shop seed --if-empty)"
  env -i "${vars[@]}" "$shop_bin" migrate >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "shop migrate failed; see $log"; }
  env -i "${vars[@]}" "$shop_bin" seed --if-empty >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "shop seed failed; see $log"; }
  touch "$state/run/seeded"
}

# Starts process $1 (web1..webN or worker1..workerN) unless it runs, detached from this script (its
# own session), with its environment file; $2 is the shop subcommand, $3 the web port.
start_shop() {
  local name=$1 command=$2 port=${3:-} env_file=$state/run/$1.env vars
  alive "$state/run/$name.pid" "$shop_bin $command" && return 0
  if [ ! -f "$env_file" ]; then
    shop_environment >"$env_file"
    if [ "$command" = serve ]; then
      printf '%s=%s\n' LEPTOS_SITE_ADDR "127.0.0.1:$port" RUN_WORKER false >>"$env_file"
    fi
  fi
  mapfile -t vars <"$env_file"
  echo "starting $name${port:+ on 127.0.0.1:$port}"
  setsid env -i "${vars[@]}" "$shop_bin" "$command" </dev/null >>"$state/logs/$name.log" 2>&1 9>&- &
  echo $! >"$state/run/$name.pid"
}

web_port() { echo "${web_ports[$(($1 - 1))]}"; }

wait_web_ready() {
  local n=$1
  wait_ready "http://127.0.0.1:$(web_port "$n")/ready" "$state/run/web$n.pid" \
    "$shop_bin serve" "web$n" "$state/logs/web$n.log"
}

# --- nginx -----------------------------------------------------------------------------------

nginx_cmd() {
  "$NGINX" -p "$state/nginx/" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" "$@"
}

# The upstream's server list: every instance but those named in $@ (by number).
write_upstream() {
  local i n skip file=$state/nginx/shop.d/upstream.conf
  {
    echo "# Written by scripts/cluster.sh: the instances nginx sends requests to."
    for ((i = 1; i <= instances; i++)); do
      skip=0
      for n in "$@"; do [ "$n" = "$i" ] && skip=1; done
      if [ "$skip" = 1 ]; then
        echo "# web$i (127.0.0.1:$(web_port "$i")) is out for a restart"
      else
        # max_fails=1 fail_timeout=3s: one failed attempt (refused, reset, 502/504) takes the
        # instance out for 3 s, after which one request tries it again.
        echo "server 127.0.0.1:$(web_port "$i") max_fails=1 fail_timeout=3s;"
      fi
    done
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}

# nginx's own files for this cluster: the main configuration (pid, logs and every temporary
# path inside the state folder, so it runs without root) and the three per-machine files
# deploy/nginx/shop.conf includes.
write_nginx_config() {
  local dir=$state/nginx
  mkdir -p "$dir/shop.d" "$dir/tmp" "$dir/cache"
  chmod 755 "$dir"
  cat >"$dir/nginx.conf" <<CONF
# Written by scripts/cluster.sh: nginx run unprivileged for the local cluster. The shop's
# part is deploy/nginx/shop.conf, included below as it would be in /etc/nginx/conf.d/.
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
# Workers left over from a reload finish their requests; this bounds how long that takes
# (a little over the proxy's read timeout in shop.conf).
worker_shutdown_timeout 40s;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp/client_body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $PWD/deploy/nginx/shop.conf;
    # After the include: the format is defined in shop.conf.
    access_log $dir/access.log shop_upstream buffer=64k flush=1s;
}
CONF
  cat >"$dir/shop.d/listen.conf" <<CONF
# Written by scripts/cluster.sh.
listen 127.0.0.1:$nginx_port;
server_name 127.0.0.1 localhost;
CONF
  cat >"$dir/shop.d/cache.conf" <<CONF
# Written by scripts/cluster.sh: the asset cache in the state folder.
proxy_cache_path $dir/cache levels=1:2 keys_zone=shop_assets:10m max_size=1g inactive=7d use_temp_path=off;
CONF
  [ -f "$dir/shop.d/upstream.conf" ] || write_upstream
}

# nginx's worker processes now (not the master, cache manager or cache loader).
nginx_workers() {
  local master
  master=$(cat "$state/nginx/nginx.pid" 2>/dev/null) || return 0
  ps -o pid=,args= --ppid "$master" 2>/dev/null | awk '/nginx: worker process/ { print $1 }'
}

# Reloads nginx with the configuration on disk and waits until the workers that ran the old
# one have finished: from then on no request can reach an instance the new one leaves out.
reload_nginx() {
  local old pid
  nginx_cmd -t -q || die "nginx refused its configuration; see above"
  old=$(nginx_workers)
  nginx_cmd -s reload
  for pid in $old; do
    for _ in $(seq 1 450); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && die "an old nginx worker (pid $pid) was still running 45 s after the reload"
  done
  return 0
}

start_nginx() {
  local pattern="$NGINX -p $state/nginx/"
  [ -x "$NGINX" ] || die "nginx is not installed (scripts/bootstrap.sh --test installs it)"
  write_nginx_config
  if alive "$state/nginx/nginx.pid" "$pattern"; then
    # Running: make sure every instance is in its list (a restart stopped half-way leaves one
    # out).
    write_upstream
    reload_nginx
    return 0
  fi
  write_upstream
  nginx_cmd -t -q || die "nginx refused its configuration; see above"
  echo "starting nginx on 127.0.0.1:$nginx_port"
  # nginx daemonizes itself and writes its pid file; setsid keeps it out of this script's
  # session either way.
  setsid "$NGINX" -p "$state/nginx/" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" </dev/null 9>&-
  for _ in $(seq 1 50); do
    alive "$state/nginx/nginx.pid" "$pattern" && return 0
    sleep 0.1
  done
  die "nginx did not start; see $state/nginx/error.log"
}

stop_nginx() {
  local pid
  alive "$state/nginx/nginx.pid" "$NGINX -p $state/nginx/" || return 0
  pid=$(cat "$state/nginx/nginx.pid")
  # QUIT: finish the requests in flight, then exit.
  kill -QUIT "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 450); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "nginx (pid $pid) did not stop" >&2
  return 1
}

# --- commands --------------------------------------------------------------------------------

# Holds the cluster's lock for the rest of the script: one start, restart or stop at a time.
# (The processes it starts must not inherit the lock's descriptor: each start closes 9.)
# Refuses a CLUSTER_DIR that holds anything but a cluster's files (--stop removes it whole).
lock() {
  local entry
  if [ -d "$state" ] && [ ! -f "$state/cluster.env" ]; then
    for entry in "$state"/* "$state"/.[!.]*; do
      [ -e "$entry" ] && [ "$entry" != "$state/.lock" ] &&
        die "$state holds files but no cluster.env: not a cluster's state folder, not touching it"
    done
  fi
  mkdir -p "$state"
  exec 9>"$state/.lock"
  flock -w 300 9 || die "another scripts/cluster.sh has held $state/.lock for 5 minutes"
}

start() {
  local i
  lock
  if [ ! -x "$NGINX" ] || ! pg_bin_dir >/dev/null 2>&1 || ! command -v curl >/dev/null; then
    scripts/bootstrap.sh --test
  fi
  if load_settings; then
    if [ -n "${CLUSTER_PORT:-}" ] && [ "$CLUSTER_PORT" != "$nginx_port" ]; then
      die "the cluster in $state listens on $nginx_port, not CLUSTER_PORT=$CLUSTER_PORT: --stop it first"
    fi
  else
    write_settings
  fi
  mkdir -p "$state/run" "$state/logs" "$state/data"
  chmod 700 "$state/run"
  # PostgreSQL (as the postgres user) and nginx's workers (as nobody) must reach their folders.
  chmod 755 "$state"
  if [ "$(id -u)" = 0 ] && ! as_pg test -x "$state"; then
    die "the postgres user cannot reach $state: let others search its parent folders (chmod o+x)"
  fi
  start_postgres
  prepare_database
  step "web instances and workers ($shop_bin)"
  for ((i = 1; i <= instances; i++)); do start_shop "web$i" serve "$(web_port "$i")"; done
  for ((i = 1; i <= workers; i++)); do start_shop "worker$i" worker; done
  for ((i = 1; i <= instances; i++)); do wait_web_ready "$i"; done
  for ((i = 1; i <= workers; i++)); do
    alive "$state/run/worker$i.pid" "$shop_bin worker" || die "worker$i exited; see $state/logs/worker$i.log"
  done
  step "nginx"
  start_nginx
  wait_ready "$url/ready" "$state/nginx/nginx.pid" "$NGINX -p $state/nginx/" nginx "$state/nginx/error.log"
  cat <<MSG

  The shop is ready:   $url
  Admin login:         admin@example.com / ${DEMO_ADMIN_PASSWORD:-demo-admin-password}
  State and logs:      $state  (scripts/cluster.sh --status, --restart N, --stop)

MSG
}

status() {
  local i ok=0 pid
  load_settings || { echo "no cluster in $state"; exit 1; }
  row() {
    local name=$1 file=$2 pattern=$3 where=$4 ready=${5:-}
    if alive "$file" "$pattern"; then
      pid=$(cat "$file")
      printf '%-9s pid %-8s %-22s %s\n' "$name" "$pid" "$where" "${ready:-running}"
    else
      printf '%-9s %-12s %-22s %s\n' "$name" "-" "$where" "NOT RUNNING"
      ok=1
    fi
  }
  row postgres "$state/run/postgres.pid" "-D $state/pg" "127.0.0.1:$pg_port"
  for ((i = 1; i <= instances; i++)); do
    row "web$i" "$state/run/web$i.pid" "$shop_bin serve" "127.0.0.1:$(web_port "$i")" \
      "/ready $(http_status "http://127.0.0.1:$(web_port "$i")/ready")"
  done
  for ((i = 1; i <= workers; i++)); do
    row "worker$i" "$state/run/worker$i.pid" "$shop_bin worker" "-"
  done
  row nginx "$state/nginx/nginx.pid" "$NGINX -p $state/nginx/" "$url" "/ready $(http_status "$url/ready")"
  echo "upstream: $(grep -c '^server' "$state/nginx/shop.d/upstream.conf") of $instances instances"
  return "$ok"
}

restart() {
  local n=$1 others=0 i
  load_settings || die "no cluster in $state: start one with scripts/cluster.sh"
  if ! [[ $n =~ ^[1-9]$ ]] || [ "$n" -gt "$instances" ]; then
    die "--restart takes an instance number from 1 to $instances"
  fi
  lock
  for ((i = 1; i <= instances; i++)); do
    [ "$i" != "$n" ] && [ "$(http_status "http://127.0.0.1:$(web_port "$i")/ready")" = 200 ] && others=$((others + 1))
  done
  [ "$others" -gt 0 ] || die "no other instance is ready to take web$n's requests: not restarting it"
  local started=$SECONDS
  step "web$n: out of nginx's upstream"
  write_upstream "$n"
  reload_nginx
  step "web$n: stopping (SIGTERM; requests in flight finish)"
  stop_process "$state/run/web$n.pid" "$shop_bin serve" "$STOP_SECS"
  step "web$n: starting again"
  start_shop "web$n" serve "$(web_port "$n")"
  wait_web_ready "$n"
  step "web$n: back in nginx's upstream"
  write_upstream
  reload_nginx
  echo "web$n restarted in $((SECONDS - started)) s"
}

stop() {
  local i
  [ -d "$state" ] || { echo "no cluster in $state"; return 0; }
  lock
  if load_settings; then
    step "stopping nginx, the web instances, the workers and PostgreSQL"
    local failed=0
    stop_nginx || failed=1
    for ((i = 1; i <= instances; i++)); do
      stop_process "$state/run/web$i.pid" "$shop_bin serve" "$STOP_SECS" &
    done
    for ((i = 1; i <= workers; i++)); do
      stop_process "$state/run/worker$i.pid" "$shop_bin worker" "$STOP_SECS" &
    done
    wait
    stop_postgres || failed=1
    # A process still running uses its files: keep them for whoever stops it by hand.
    [ "$failed" = 0 ] || die "not everything stopped; $state is kept"
  fi
  rm -rf "$state"
  echo "stopped; $state removed"
}

case "${1:-}" in
  "") start ;;
  --status) status ;;
  --restart) [ $# -eq 2 ] || usage; restart "$2" ;;
  --stop) stop ;;
  -h | --help) usage ;;
  *) usage ;;
esac
