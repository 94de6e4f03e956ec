#!/usr/bin/env bash
# test_audit_old_archive.sh — a run directory made by an older husai (tests/fixtures/old-archive:
# husai 3ba42eb, one train-sae job per condition where this version declares one per seed)
# still audits: `husai audit --recompute` reruns its analyses and rebuilds its results from what
# its own done records say ran, instead of refusing it with "job ... has not finished".  A
# record that is really missing, or an output whose checksum no longer holds, is still named.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" audit_old_archive
fixture="$src/tests/fixtures/old-archive"
check "the fixture is an old layout (a per-condition SAE record)" \
	test -f "$fixture/run/jobs/sae_k_sweep_dsae16_k2.done.json"
check "the fixture has no per-seed SAE record" \
	test ! -e "$fixture/run/jobs/sae_k_sweep_dsae16_k2_seed1.done.json"
fresh() { rm -rf "$tmp/a"; mkdir -p "$tmp/a"; cp -a "$fixture/." "$tmp/a/"; }

fresh
"$bin" audit --recompute "$tmp/a/run" >"$tmp/out" 2>&1; st=$?
check "the old archive audits (status $st)" test "$st" -eq 0 -o "$st" -eq 4 -o "$st" -eq 1
check "no job is said to be unfinished" sh -c "! grep -q 'has not finished' '$tmp/out'"
check "the audit was completed" sh -c "! grep -q 'could not be completed' '$tmp/out'"
check "its analyses were recomputed" \
	grep -q "a/run: .*10 analysis outputs recomputed from the archived checkpoints" "$tmp/out"
check "its results were rebuilt from its jobs" \
	grep -q "a/run: .*3 run outputs rebuilt from the archived jobs" "$tmp/out"
check "results.json has a verdict" \
	grep -E -q "^(identical|within [0-9]+ ULP|differs) +results.json \(rebuilt from the archived jobs\)" "$tmp/out"
check "the summary line ends with the status ($st)" grep -q "^audit: 13 outputs recomputed: .*; exit $st\$" "$tmp/out"
[ "$st" -eq 0 ] || { echo "note: not identical on this machine:"; grep -v '^identical' "$tmp/out" | head -20; }

# a job whose outputs no record lists has not finished
fresh
rm "$tmp/a/run/jobs/sae_k_sweep_dsae16_k2.done.json"
"$bin" audit --recompute "$tmp/a/run" >"$tmp/out" 2>&1; st=$?
check "a missing SAE record fails the audit (status $st)" test "$st" -eq 1
check "the unfinished job and its output are named" grep -q \
	"job 'sae_k_sweep_dsae16_k2_seed1' has not finished: no done record in jobs/ lists its output 'sae/k_sweep_dsae16_k2/sae_seed1.h5'" "$tmp/out"

# an output whose recorded checksum no longer holds is named with the record that lists it
fresh
sed -i 's/"sha256": "[0-9a-f]*"/"sha256": "00"/' "$tmp/a/run/jobs/sae_k_sweep_dsae16_k2.done.json"
"$bin" audit --recompute "$tmp/a/run" >"$tmp/out" 2>&1; st=$?
check "a checksum that no longer holds fails the audit (status $st)" test "$st" -eq 1
check "the output and the record are named" grep -q \
	"sae/k_sweep_dsae16_k2/sae_seed1.h5: output of job 'sae_k_sweep_dsae16_k2_seed1' is changed since jobs/sae_k_sweep_dsae16_k2.done.json recorded it" "$tmp/out"
finish audit_old_archive
