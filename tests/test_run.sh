#!/usr/bin/env bash
# test_run.sh — `husai run` end to end on a small smoke experiment (p = 31): it passes its
# shape checks and the audit; a rerun reuses every job; a changed config is refused naming the
# field; a corrupted artifact is named and --redo recomputes it; a run killed mid-way finishes
# on rerun with the same bytes in every dataset; one and two threads give the same bytes.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" run
small=(--set data.p=31 --set experiment.expect.p=31 --set sae.d_sae=256 --set experiment.expect.d_sae=256
       --set sae.epochs=3 --set sae.batch_size=256 --set transformer.batch_size=256)
run() { "$bin" run "${small[@]}" "$@" "$src/configs/smoke.yaml"; }
# every dataset's sha256 in every HDF5 file of a run, sorted, without the run's path
digest() { (cd "$1" && find . -name '*.h5' | sort | while read -r f; do
	"$bin" inspect --checksums "$f" | grep -v "@" | grep sha256 | sed "s|^|$f |"; done) >"$2"; }

run --out "$tmp/a" >"$tmp/out" 2>&1; st=$?
check "smoke run succeeds (status $st)" test "$st" -eq 0
check "smoke checks pass" grep -q '"pass": true' "$tmp/a/results.json"
check "audit of the run passes" "$bin" audit -q "$tmp/a"
run --out "$tmp/a" >"$tmp/out" 2>&1
check "rerun reuses every job" grep -q "0 jobs run, 3 reused" "$tmp/out"

run --out "$tmp/a" --set sae.k=16 >"$tmp/out" 2>&1; st=$?
check "a changed config is refused" test "$st" -ne 0
check "the refusal names the field" grep -q "k:" "$tmp/out"

f="$tmp/a/sae/smoke/sae_seed42.h5"
printf '\x01' | dd of="$f" bs=1 seek=3000 conv=notrunc status=none
run --out "$tmp/a" >"$tmp/out" 2>&1; st=$?
check "a corrupt artifact stops the rerun" test "$st" -ne 0
check "the corrupt artifact is named, with --redo" grep -q "sae_seed42.h5.*--redo" "$tmp/out"
run --out "$tmp/a" --redo >"$tmp/out" 2>&1; st=$?
check "--redo recomputes it" test "$st" -eq 0
check "audit passes after --redo" "$bin" audit -q "$tmp/a"
digest "$tmp/a" "$tmp/a.sums"
check "datasets were digested" test -s "$tmp/a.sums"

# kill -9 in the middle (after the transformer job, during extraction or SAE training), rerun
# in its own process group, so kill -9 reaches the job processes too (as a crash would)
setsid "$bin" run "${small[@]}" --out "$tmp/b" "$src/configs/smoke.yaml" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 400); do [ -e "$tmp/b/jobs/transformer.done.json" ] && break; sleep 0.05; done
kill -9 -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null
for _ in $(seq 1 100); do pgrep -g "$pid" >/dev/null || break; sleep 0.05; done
run --out "$tmp/b" >"$tmp/out" 2>&1; st=$?
check "a killed run finishes on rerun (status $st)" test "$st" -eq 0
check "stale temporaries of the killed run are cleaned" test -z "$(find "$tmp/b" -name '*.tmp-*')"
check "audit of the resumed run passes" "$bin" audit -q "$tmp/b"
digest "$tmp/b" "$tmp/b.sums"
check "killed + resumed run has the same bytes in every dataset" cmp -s "$tmp/a.sums" "$tmp/b.sums"

OMP_NUM_THREADS=1 run --out "$tmp/c" >/dev/null 2>&1
digest "$tmp/c" "$tmp/c.sums"
check "one thread gives the same bytes as two" cmp -s "$tmp/a.sums" "$tmp/c.sums"

# results.json of two runs agree in everything but run_metadata (time, command line)
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("run_metadata",None); print(json.dumps(d,sort_keys=True))' "$1"; }
if command -v python3 >/dev/null; then
	check "two runs give the same results.json (run_metadata aside)" test "$(strip "$tmp/a/results.json")" = "$(strip "$tmp/c/results.json")"
fi

finish
