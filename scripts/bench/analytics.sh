#!/usr/bin/env bash
# Analytics dashboard benchmark: builds the release server, imports the 10k-product dataset
# into a fresh SQLite database (or BENCH_DATABASE_URL: an empty, throwaway PostgreSQL
# database), makes up DAYS days of shop activity with `shop demo-history` (default a year:
# 52,000 orders and about 1.7 million events, every raw event kept), then signs in as an
# admin and loads every dashboard view for each period the picker offers, one request at a
# time as a merchant would: prints the median, 95th percentile and slowest of RUNS loads of
# each page (the target is 200 ms), and a CSV export of the longest table.
#
#   scripts/bench/analytics.sh [DAYS] [ORDERS] [RUNS]      # default 365 52000 20
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/common.sh

days=${1:-365}
orders=${2:-52000}
runs=${3:-20}
# Keep every raw event (the largest database the dashboards read), not just 90 days.
export ANALYTICS_RETENTION_DAYS=$((days + 31))
bench_serve_catalog
kill -TERM "$bench_pid" && wait "$bench_pid" 2>/dev/null || true

step "made-up history: $days days, about $orders orders"
"$CARGO_TARGET_DIR/release/shop" demo-history --days "$days" --orders "$orders"
ADMIN_PASSWORD=bench-password-1 "$CARGO_TARGET_DIR/release/shop" create-admin \
  --email bench@example.com --name "Bench Admin" >/dev/null
if [[ $DATABASE_URL == sqlite://* ]]; then
  echo "database file: $(du -h "${DATABASE_URL#sqlite://}" | cut -f1)"
fi
bench_start

step "dashboard pages, $runs loads each (after 2 to warm up), one at a time"
node - "$base" "$runs" <<'JS'
const [base, runs] = [process.argv[2], +process.argv[3]];
const http = require("http");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(path, cookie) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    http.get(base + path, { agent, headers: { cookie, accept: "text/html" } }, (res) => {
      let bytes = 0;
      res.on("data", (c) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode, bytes,
        ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    }).on("error", reject);
  });
}
(async () => {
  const login = await fetch(base + "/api/account/login", { method: "POST",
    body: "email=bench%40example.com&password=bench-password-1",
    headers: { origin: base, "sec-fetch-site": "same-origin", accept: "application/json",
               "content-type": "application/x-www-form-urlencoded" } });
  if (login.status !== 200) { console.error("sign in:", login.status); process.exit(1); }
  const cookie = login.headers.get("set-cookie").split(";")[0];
  const today = new Date().toISOString().slice(0, 10);
  const yearAgo = new Date(Date.now() - 364 * 86400e3).toISOString().slice(0, 10);
  const ranges = ["range=today", "range=7d", "range=30d", "range=month",
                  `range=custom&from=${yearAgo}&to=${today}`];
  const views = ["", "/products", "/searches", "/funnel", "/carts"];
  const pages = [];
  for (const v of views) for (const r of ranges) pages.push(`/admin/analytics${v}?${r}`);
  pages.push(`/admin/analytics/export?view=carts&table=abandoned-carts&range=custom&from=${yearAgo}&to=${today}`);
  console.log(`${"page".padEnd(74)} ${"median".padStart(7)} ${"p95".padStart(7)} ${"max".padStart(7)} ${"KB".padStart(6)}`);
  let worst = 0;
  for (const path of pages) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < runs + 2; i++) {
      const res = await get(path, cookie);
      if (res.status !== 200) { console.error(`${path}: ${res.status}`); process.exit(1); }
      if (i >= 2) times.push(res.ms);
      bytes = res.bytes;
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    worst = Math.max(worst, at(0.5));
    const label = path.replace(/from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d/, "365 days");
    console.log(`${label.padEnd(74)} ${at(0.5).toFixed(1).padStart(7)} ${at(0.95).toFixed(1).padStart(7)} ${times[times.length - 1].toFixed(1).padStart(7)} ${(bytes / 1024).toFixed(0).padStart(6)}`);
  }
  console.log(`slowest median: ${worst.toFixed(1)} ms (target 200 ms)`);
})().catch((e) => { console.error(e); process.exit(1); });
JS
