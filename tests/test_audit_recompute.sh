#!/usr/bin/env bash
# test_audit_recompute.sh — `husai audit --recompute` reruns every analysis of a small core
# ablation from its archived checkpoints and rebuilds the run's own results.json and CSVs from
# the jobs' files, finding everything identical; after a reported number is edited (in the
# run's results.json, then in an analysis) it names the file that differs and exits non-zero.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" audit
"$bin" run --set experiment.k_values=8,16 --set experiment.d_sae_values=64 --set experiment.seeds=1,2,3 \
	--set data.p=31 --set sae.epochs=2 --set sae.batch_size=256 --set transformer.batch_size=256 \
	--set transformer.epochs=1 --set experiment.bootstrap_samples=500 --out "$tmp/run" \
	"$src/configs/parity/core_ablations.yaml" >/dev/null 2>&1
check "the small core ablation runs" test -f "$tmp/run/results.json"
sleep 1; touch "$tmp/out.ref"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "recomputed analyses are identical (status $st)" test "$st" -eq 0
check "six outputs were recomputed" grep -q "ok, 6 analysis outputs recomputed" "$tmp/out"
check "results.json and two CSVs were rebuilt" grep -q "ok, 3 run outputs rebuilt from the archived jobs are identical" "$tmp/out"
check "the archive was not written to" test -z "$(find "$tmp/run" -newer "$tmp/out.ref" 2>/dev/null)"
cp "$tmp/run/results.json" "$tmp/results.keep"
sed -i '0,/"mean": 0\./s//"mean": 0.9/' "$tmp/run/results.json"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "an edited number in the run's results.json fails the audit" test "$st" -ne 0
check "the run's results.json is named as differing" grep -q "differs   results.json (rebuilt" "$tmp/out"
cp "$tmp/results.keep" "$tmp/run/results.json"
# a suite: its sub-run's whole directory is the suite job's; the sub-run is audited on its own
printf 'experiment:\n  kind: suite\n  name: tiny_suite\n  runs:\n    smoke: %s/configs/smoke.yaml\n' "$src" >"$tmp/suite.yaml"
"$bin" run --out "$tmp/suite" "$tmp/suite.yaml" >/dev/null 2>&1
"$bin" audit --recompute "$tmp/suite" >"$tmp/out" 2>&1; st=$?
check "a suite audits clean (status $st)" test "$st" -eq 0
check "the suite's sub-run is rebuilt on its own" grep -q "suite/smoke: ok, 1 run outputs rebuilt" "$tmp/out"
f="$tmp/run/analysis/k_sweep_dsae128_k8/results.json"
sed -i '0,/"mean": 0\./s//"mean": 0.9/' "$f"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "an edited number fails the audit" test "$st" -ne 0
check "the edited file is named as differing" grep -q "differs   analysis/k_sweep_dsae128_k8/results.json" "$tmp/out"
finish
