#!/usr/bin/env bash
# test_functional_run.sh — the functional test of matched features in a run (docs/formulas.md
# §11): the golden pipeline's config with experiment.functional on runs one `husai functional`
# job per trained condition, each record's `functional` block holds finite numbers with CIs
# beside its PW-MCC, conditions.csv carries them and the report tabulates them, `audit
# --recompute` reruns the jobs and finds them identical, the scalar path with one thread and one
# job gives the same bytes, and the verb refuses bad input with a named error and no output.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" functional_run
command -v python3 >/dev/null || { echo "python3 not found: skipped"; exit 77; }
"$bin" run --out "$tmp/r" --set experiment.functional=true --set 'experiment.seeds=[1,2,3]' \
	"$src/tests/fixtures/golden/config.yaml" >"$tmp/r.log" 2>&1
st=$?
check "run with experiment.functional succeeds (status $st)" test "$st" -eq 0
check "one functional job per trained condition" test "$(ls "$tmp/r/functional" | wc -l)" -eq 3
check "every record's functional block is finite, with CIs, beside PW-MCC" python3 - "$tmp/r" <<'PY'
import csv, json, math, sys
d = json.load(open(sys.argv[1] + "/results.json"))
recs = d["k_sweep"] + d["d_sae_sweep"]
assert len(recs) == 3
for r in recs:
    f = r["functional"]
    assert "trained_pwmcc" in r
    assert f["n_pairs"] == 3 and f["n_rows"] == 31 * 31 - int(31 * 31 * 0.9), f
    for k in ("matched_abs_dloss", "random_abs_dloss", "matched_dloss", "random_dloss",
              "matched_dacc", "random_dacc", "fingerprint_cos_matched",
              "abs_dloss_matched_minus_random", "abs_dloss_matched_minus_random_seed_level"):
        s = f[k]
        for q in ("mean", "ci95_low", "ci95_high"):
            assert isinstance(s[q], float) and math.isfinite(s[q]), (r["condition"], k, q, s)
        assert s["ci95_low"] <= s["mean"] <= s["ci95_high"], (k, s)
    assert f["random_abs_dloss"]["mean"] > 0
    assert isinstance(f["matched_less_than_random_pass"], bool)
    assert f["output"].startswith("functional/")
rows = list(csv.DictReader(open(sys.argv[1] + "/conditions.csv")))
for row in rows:
    assert math.isfinite(float(row["functional_matched_abs_dloss_mean"])), row
    assert math.isfinite(float(row["functional_random_abs_dloss_ci95_high"])), row
PY
"$bin" audit --recompute "$tmp/r" >"$tmp/audit.log" 2>&1
st=$?
check "audit --recompute: identical (status $st)" test "$st" -eq 0
check "audit recomputed the functional outputs" \
	grep -q "^identical *functional/k_sweep_dsae64_k4/functional.json" "$tmp/audit.log"
"$bin" report --formats png --out "$tmp/rep" "$tmp/r" >"$tmp/report.log" 2>&1
check "the report has the functional table beside PW-MCC, one row per condition, numbers from the records" \
	python3 - "$tmp/r" "$tmp/rep" <<'PY'
import glob, json, sys
d = json.load(open(sys.argv[1] + "/results.json"))
recs = d["k_sweep"] + d.get("d_sae_sweep", [])
md = open(glob.glob(sys.argv[2] + "/*/summary.md")[0]).read()
sec = md.split("Functional Consistency of Matched Features\n")[1].split("\n## ")[0]
rows = [l for l in sec.splitlines() if l.startswith("| ") and "sweep: d_sae, k" not in l]
assert len(rows) == len(recs), rows
for r in recs:
    f = r["functional"]
    row = next(l for l in rows if l.startswith("| %d, %d |" % (r["d_sae"], r["k"])))
    assert "%.4f" % r["trained_pwmcc"]["mean"] in row, row
    assert "%.3g" % f["matched_abs_dloss"]["mean"] in row, row
    assert "%.3g" % f["random_abs_dloss"]["mean"] in row, row
    assert ("| yes |" if f["matched_less_than_random_pass"] else "| no |") in row, row
PY
# the same bytes on the portable path with one thread and one job (the run above used the CPU's
# widest path and 2 threads): every functional.json and the run's results.json
HUSAI_ISA=scalar OMP_NUM_THREADS=1 "$bin" run --jobs 1 --out "$tmp/rs" --set experiment.functional=true \
	--set 'experiment.seeds=[1,2,3]' "$src/tests/fixtures/golden/config.yaml" >"$tmp/rs.log" 2>&1
st=$?
check "the run on the scalar path, 1 thread, 1 job (status $st)" test "$st" -eq 0
same_fn=0
for f in "$tmp"/r/functional/*/functional.json; do
	cmp -s "$f" "$tmp/rs/${f#"$tmp/r/"}" || { echo "differs: $f"; same_fn=1; }
done
check "functional.json identical on the scalar path" test "$same_fn" -eq 0
check "results.json identical on the scalar path (run_metadata aside)" python3 - "$tmp/r" "$tmp/rs" <<'PY'
import json, sys
a, b = (json.load(open(d + "/results.json")) for d in sys.argv[1:])
a.pop("run_metadata", None); b.pop("run_metadata", None)
assert a == b
PY
# the verb on bad input: named errors, status 1 or 2, no output
r="$tmp/r"; c=k_sweep_dsae64_k4
g="$c=$r/sae/$c/sae_seed1.h5,$r/sae/$c/sae_seed2.h5"
"$bin" functional --transformer "$r/transformer/transformer_final.h5" --activations \
	"$r/activations.h5" --matching "$r/analysis/$c/analysis.h5" --group "$c" --out "$tmp/bad1" \
	>/dev/null 2>"$tmp/e1"
st=$?
check "a group without checkpoints is a usage error" test "$st" -eq 2
"$bin" functional --transformer "$r/transformer/transformer_final.h5" --activations \
	"$r/activations.h5" --matching "$r/analysis/k_sweep_dsae64_k8/analysis.h5" --group "$g" \
	--out "$tmp/bad2" >/dev/null 2>"$tmp/e2"
st=$?
check "the matching of another group is refused, named (status $st)" \
	sh -c "test $st -eq 1 && grep -q 'no matching of seeds 1 and 2' '$tmp/e2' && test ! -e '$tmp/bad2'"
"$bin" functional --transformer "$r/transformer/transformer_final.h5" --activations \
	"$r/sae/$c/sae_seed1.h5" --matching "$r/analysis/$c/analysis.h5" --group "$g" \
	--out "$tmp/bad3" >/dev/null 2>"$tmp/e3"
st=$?
check "an SAE checkpoint given as the activation set is refused (status $st)" \
	sh -c "test $st -eq 1 && test ! -e '$tmp/bad3'"
"$bin" functional --help | grep -q "held-out"
check "--help explains the test" test $? -eq 0
finish functional_run
