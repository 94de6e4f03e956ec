#!/usr/bin/env bash
# test_audit_recompute.sh — `husai audit --recompute` reruns every analysis of a small core
# ablation from its archived checkpoints and finds the outputs identical; after a reported
# number is edited it names the file that differs and exits non-zero.
set -u
bin=${HUSAI_BIN:?}
src=${HUSAI_SOURCE_DIR:?}
tmp=${TEST_TMP:-/tmp/husai_test_audit_$$}
rm -rf "$tmp"; mkdir -p "$tmp"
fail=0; passed=0
check() { local what=$1; shift; if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi; }
"$bin" run --set experiment.k_values=8,16 --set experiment.d_sae_values=64 --set experiment.seeds=1,2,3 \
	--set data.p=31 --set sae.epochs=2 --set sae.batch_size=256 --set transformer.batch_size=256 \
	--set transformer.epochs=1 --set experiment.bootstrap_samples=500 --out "$tmp/run" \
	"$src/configs/parity/core_ablations.yaml" >/dev/null 2>&1
check "the small core ablation runs" test -f "$tmp/run/results.json"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "recomputed analyses are identical (status $st)" test "$st" -eq 0
check "six outputs were recomputed" grep -q "ok, 6 analysis outputs recomputed" "$tmp/out"
f="$tmp/run/analysis/k_sweep_dsae128_k8/results.json"
sed -i '0,/"mean": 0\./s//"mean": 0.9/' "$f"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "an edited number fails the audit" test "$st" -ne 0
check "the edited file is named as differing" grep -q "differs   analysis/k_sweep_dsae128_k8/results.json" "$tmp/out"
echo "$passed passed, $fail failed"
[ "$fail" -eq 0 ] && rm -rf "$tmp"
test "$fail" -eq 0
