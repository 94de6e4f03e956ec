#!/usr/bin/env bash
# test_planted.sh — the planted-truth experiment end to end (run kind planted, issue 21) on
# tests/fixtures/planted/tiny.yaml (64 features in R^16, topk and relu, 2 seeds, a few
# steps): two runs give the same dataset digests and the same results.json apart from its
# run_metadata; results.json holds MCC to the truth beside PW-MCC for every architecture,
# both rankings and the correlations; `husai audit --recompute` finds everything identical;
# the report draws the PW-MCC against MCC figure; a bad plant setting is refused before any
# job runs, naming the file and key.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" planted
conf="$src/tests/fixtures/planted/tiny.yaml"
export HUSAI_QUIET=1 OMP_NUM_THREADS=1
digest() { (cd "$1" && find . -name '*.h5' | sort | while read -r f; do
	"$bin" inspect --checksums "$f" | grep -v "@" | grep sha256 | sed "s|^|$f |"; done) >"$2"; }
strip_meta() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("run_metadata",None); print(json.dumps(r,sort_keys=True))' "$1"; }

check "first run" "$bin" run "$conf" --out "$tmp/a" --jobs 2
check "second run" "$bin" run "$conf" --out "$tmp/b" --jobs 1
digest "$tmp/a" "$tmp/da"; digest "$tmp/b" "$tmp/db"
check "the runs hold HDF5 datasets" test -s "$tmp/da"
check "the two runs' datasets are identical" cmp -s "$tmp/da" "$tmp/db"
check "the two runs' results.json agree" bash -c "[ \"\$(strip_meta $tmp/a/results.json)\" = \"\$(strip_meta $tmp/b/results.json)\" ]"
check "results.json has MCC to the truth and PW-MCC per architecture" python3 - "$tmp/a/results.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
conds = {c["condition"]: c for c in r["conditions"]}
assert set(conds) == {"topk", "relu"}, conds.keys()
for c in conds.values():
    m, p = c["truth"]["mcc"]["mean"], c["trained_pwmcc"]["mean"]
    assert 0 < m <= 1 and 0 < p <= 1, (m, p)
    assert len(c["per_seed"]) == 2
    sp = c["stability_probability"]
    assert 0 <= sp["mean"] <= 1 and sum(sp["histogram"]) == 2 * 64
assert [e["condition"] for e in r["ranking"]["by_mcc_truth"]] != []
assert r["correlation_pwmcc_mcc"]["across_seeds"]["n"] == 4
assert r["planted"]["n_features"] == 64 and r["planted"]["d"] == 16
PY
check "audit --recompute finds the run identical" "$bin" audit --recompute "$tmp/a"
check "the report draws F11 and writes the planted summary" bash -c \
	"'$bin' report --out '$tmp/rep' '$tmp/a' >/dev/null && test -s '$tmp/rep/planted/figures/F11_pwmcc_vs_truth.png' && grep -q 'Ranking by MCC to the truth' '$tmp/rep/planted/summary.md'"
check "a bad plant setting is refused before any job" bash -c \
	"! '$bin' run '$conf' --out '$tmp/c' --set plant.hierarchy.parents=40 2>'$tmp/err' && grep -q 'plant.features' '$tmp/err' && [ ! -e '$tmp/c/planted.h5' ]"
finish planted
