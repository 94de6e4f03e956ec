#!/usr/bin/env bash
# test_run_signals.sh — `husai run` stopped by a signal (what timeout, Slurm and systemd send)
# leaves no job behind: SIGTERM mid-run is forwarded to the running job, the run exits 3 with
# one line, no husai process is left writing into the run directory, and a rerun finishes
# with the same bytes in every dataset as a clean run; a run killed outright (SIGKILL, only
# the parent) takes its job down with it (PR_SET_PDEATHSIG).
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" run_signals
small=(--set data.p=31 --set experiment.expect.p=31 --set sae.d_sae=256 --set experiment.expect.d_sae=256
       --set sae.epochs=40 --set sae.batch_size=64 --set transformer.batch_size=256)
run() { "$bin" run "${small[@]}" "$@" "$src/configs/smoke.yaml"; }
digest() { (cd "$1" && find . -name '*.h5' | sort | while read -r f; do
	"$bin" inspect --checksums "$f" | grep -v "@" | grep sha256 | sed "s|^|$f |"; done) >"$2"; }
# the husai processes whose command line names a directory
procs() { pgrep -f -- "husai .*$1" >/dev/null; }
noprocs() { ! procs "$1"; }
wait_for() { for _ in $(seq 1 600); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }

run --out "$tmp/a" >/dev/null 2>&1
digest "$tmp/a" "$tmp/a.sums"
check "a clean run was digested" test -s "$tmp/a.sums"

# SIGTERM to husai run while the SAE job trains
"$bin" run "${small[@]}" --out "$tmp/b" "$src/configs/smoke.yaml" >"$tmp/b.out" 2>&1 &
pid=$!
wait_for "$tmp/b/jobs/extract.done.json"; sleep 0.3
check "the SAE job is running when the signal comes" procs "$tmp/b/jobs/sae"
kill -TERM "$pid"; wait "$pid"; st=$?
check "SIGTERM ends the run with status 3 (got $st)" test "$st" -eq 3
check "one clear line says so" grep -q "interrupted by SIGTERM.*rerun the same command" "$tmp/b.out"
check "no job's log tail for a stopped run" test -z "$(grep 'failed (status' "$tmp/b.out")"
check "no husai process is left writing into the run" noprocs "$tmp/b"
check "the stopped SAE job is not recorded done" test ! -e "$tmp/b/jobs/sae.done.json"
run --out "$tmp/b" >"$tmp/out" 2>&1; st=$?
check "the rerun finishes it (status $st)" test "$st" -eq 0
check "the rerun ran only the stopped job" grep -q "1 jobs run, 2 reused" "$tmp/out"
digest "$tmp/b" "$tmp/b.sums"
check "stopped + rerun: the same bytes in every dataset as a clean run" cmp -s "$tmp/a.sums" "$tmp/b.sums"

# SIGKILL to husai run alone (not its process group): its job dies with it
"$bin" run "${small[@]}" --out "$tmp/c" "$src/configs/smoke.yaml" >/dev/null 2>&1 &
pid=$!
wait_for "$tmp/c/jobs/extract.done.json"; sleep 0.3
check "the SAE job is running before the kill" procs "$tmp/c/jobs/sae"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
gone=0
for _ in $(seq 1 100); do procs "$tmp/c" || { gone=1; break; }; sleep 0.05; done
check "the job died with its killed run" test "$gone" -eq 1
run --out "$tmp/c" >/dev/null 2>&1; st=$?
check "the killed run finishes on rerun (status $st)" test "$st" -eq 0
digest "$tmp/c" "$tmp/c.sums"
check "killed + rerun: the same bytes in every dataset as a clean run" cmp -s "$tmp/a.sums" "$tmp/c.sums"

finish
