#!/usr/bin/env bash
# Periodic jobs across the cluster, with real processes: with two `shop worker`s on one
# PostgreSQL, each periodic job (housekeeping, the payment sweeper, analytics roll-ups) is
# held by one process, and started by one process only; `kill -9` of a holder (no chance to
# give its leases back) hands its jobs to the other worker once the leases expire; the killed
# worker, started again, takes nothing back while the new holder lives. Prints how long the
# takeover took.
#
#   scripts/cluster-jobs-test.sh
#
# Uses the cluster in CLUSTER_DIR when one runs (the test command's, started with
# CLUSTER_WORKERS=2, JOB_LEASE_SECS=5 and the lease log on); otherwise starts one with those
# settings and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

state=${CLUSTER_DIR:-/tmp/shop-cluster}
started_cluster=0
cleanup() {
  if [ "$started_cluster" = 1 ]; then scripts/cluster.sh --stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ ! -f "$state/cluster.env" ]; then
  step "starting a cluster with two workers"
  CLUSTER_WORKERS=2 JOB_LEASE_SECS=5 LOG_FORMAT=json RUST_LOG="warn,shop_core::leases=info" \
    scripts/cluster.sh >/dev/null
  started_cluster=1
fi
# shellcheck source=/dev/null
source "$state/cluster.env"
workers=${workers:-1}
[ "$workers" -ge 2 ] || die "the cluster in $state has $workers worker: start it with CLUSTER_WORKERS=2"
shop_bin=${shop_bin:?}
lease_secs=$(grep -h '^JOB_LEASE_SECS=' "$state"/run/worker1.env | cut -d= -f2)
lease_secs=${lease_secs:-30}
grep -q 'shop_core::leases=info' "$state/run/worker1.env" ||
  die "the workers' RUST_LOG must include shop_core::leases=info (the test counts the jobs' starts in their logs)"

sql() { psql "${database_url:?}" -AtXqc "$1"; }
# "job holder" lines for the leases that have not expired.
held() {
  sql "SELECT job || ' ' || holder FROM job_leases
       WHERE expires_at > CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) ORDER BY job"
}
# The pid in a holder name (role@host:pid:random).
pid_of() { local rest=${1#*:}; echo "${rest%%:*}"; }
# How many times the workers' logs say a process took job $1's lease.
starts() {
  cat "$state"/logs/worker*.log | grep -F "took the job's lease" | grep -cF "\"job\":\"$1\"" || true
}
worker_pids() {
  local i
  for ((i = 1; i <= workers; i++)); do cat "$state/run/worker$i.pid"; done
}
jobs=(analytics housekeeping payments)

step "every periodic job has one holder, a worker, and was started once"
for _ in $(seq 1 100); do
  [ "$(held | wc -l)" -eq "${#jobs[@]}" ] && break
  sleep 0.1
done
mapfile -t before < <(held)
[ "${#before[@]}" -eq "${#jobs[@]}" ] || die "expected ${#jobs[@]} held jobs, got: ${before[*]:-none}"
pids=" $(worker_pids | tr '\n' ' ') "
for line in "${before[@]}"; do
  job=${line%% *} holder=${line#* }
  [[ $pids == *" $(pid_of "$holder") "* ]] || die "$job is held by $holder, not by a worker ($pids)"
  [ "$(starts "$job")" -eq 1 ] || die "$job was started $(starts "$job") times with every worker up"
  echo "  $job: $holder"
done

victim_holder=${before[1]#* }
victim=$(pid_of "$victim_holder")
moved=()
for line in "${before[@]}"; do [ "${line#* }" = "$victim_holder" ] && moved+=("${line%% *}"); done
step "kill -9 the holder of ${moved[*]} (pid $victim)"
kill -KILL "$victim"
killed_at=$(date +%s%N)
deadline=$((lease_secs * 3 + 5))
taken=""
while [ $((($(date +%s%N) - killed_at) / 1000000000)) -lt "$deadline" ]; do
  mapfile -t now < <(held)
  if [ "${#now[@]}" -eq "${#jobs[@]}" ] && ! printf '%s\n' "${now[@]}" | grep -qF " $victim_holder"; then
    taken=$((($(date +%s%N) - killed_at) / 1000000))
    break
  fi
  sleep 0.1
done
[ -n "$taken" ] || die "the jobs were not taken over within $deadline s: $(held | tr '\n' ';')"
for job in "${moved[@]}"; do
  [ "$(starts "$job")" -eq 2 ] || die "$job was started $(starts "$job") times: expected once more, after the kill"
done
survivor=$(held | awk 'NR == 1 { print $2 }')
echo "  taken over ${taken} ms after the kill (leases of ${lease_secs} s): $(held | tr '\n' ';')"

step "the killed worker starts again and takes nothing back"
scripts/cluster.sh >/dev/null
sleep "$((lease_secs * 2))"
mapfile -t after < <(held)
for line in "${after[@]}"; do
  [ "${line#* }" = "$survivor" ] || [[ " ${before[*]} " == *" $line "* ]] ||
    die "a job moved again with both workers up: ${after[*]}"
done
for job in "${jobs[@]}"; do
  expected=1
  for m in "${moved[@]}"; do [ "$m" = "$job" ] && expected=2; done
  [ "$(starts "$job")" -eq "$expected" ] || die "$job was started $(starts "$job") times, expected $expected"
done

echo
echo "Periodic jobs: one holder each; kill -9 of a holder handed ${moved[*]} over in ${taken} ms."
