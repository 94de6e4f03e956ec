#!/usr/bin/env bash
# test_publication.sh — publication-grade outputs of a small 3-seed core_ablations run (the golden
# pipeline's config, p = 31): every condition's verdict comes from the seed-level test and is
# `underpowered` with the smallest attainable p and the seeds needed (never
# `no_training_signal`: 3 vs 3 models cannot give p < 0.05, so the relabellings are not run),
# Holm over the conditions, and the
# pair-level Mann–Whitney kept as a labelled parity field; the tidy conditions.csv; and the
# report over it: contiguous sections, the opening sentence follows the numbers (two
# conditions' results swapped), table rows < 200 characters, LaTeX tables, the sources sidecar;
# and a 5-seed run with a large effect gets a seed-level verdict with its CI.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" publication
command -v python3 >/dev/null || { echo "python3 not found: skipped"; exit 77; }
"$bin" run --out "$tmp/r3" --set 'experiment.seeds=[1,2,3]' --set 'experiment.d_sae_values=[]' \
	"$src/tests/fixtures/golden/config.yaml" >"$tmp/r3.log" 2>&1
st=$?
check "3-seed run succeeds (status $st)" test "$st" -eq 0
py() { python3 - "$tmp/r3" "$@"; }
check "every condition is underpowered with min p 1/20, Holm over 2, 4 seeds needed" py <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/results.json"))
recs = d["k_sweep"]
assert len(recs) == 2
for r in recs:
    sl = r["seed_level"]
    assert r["verdict"] == "underpowered" == sl["verdict"], r["verdict"]
    assert abs(sl["min_attainable_p"] - 0.05) < 1e-15, sl["min_attainable_p"]
    assert abs(sl["min_attainable_p_adjusted"] - 0.10) < 1e-15
    assert sl["n_tests"] == 2 and sl["correction"].startswith("Holm"), sl["correction"]
    assert sl["seeds_needed"] == 4, sl["seeds_needed"]
    # 3 vs 3 models cannot give p < 0.05: the relabellings (and their cross-group PWMCCs) are
    # not run, the statistic is, and the test stays in Holm's family (n_tests 2 above)
    perm = sl["permutation"]
    assert sl["permutation_p"] is None and sl["permutation_p_adjusted"] is None, sl
    assert perm["computed"] is False and perm["n_permutations"] == 20 and perm["exact"] is True
    assert perm["statistic"] is not None and "not run" in perm["reason"], perm
    assert sl["bootstrap_ci95_low"] <= sl["bootstrap_ci95_high"]
    mw = r["mann_whitney_parity"]
    assert mw["test"].startswith("Mann-Whitney") and mw["parity_conclusion"] in (
        "training_signal_present", "no_training_signal"), mw
PY
check "each analysis states the seed-level verdict as its conclusion, MWU as parity" py <<'PY'
import glob, json, sys
files = glob.glob(sys.argv[1] + "/analysis/*/results.json")
assert files
for f in files:
    for g in json.load(open(f))["groups"].values():
        v = g["seed_level_verdict"]
        assert g["conclusion"] == v["verdict"] == "underpowered", (f, g["conclusion"])
        assert v["unit"] == "model (seed)" and v["seeds_needed"] == 4
        assert v["effect_ci95_low"] <= v["effect"] <= v["effect_ci95_high"] or v["effect"] is None
        assert g["statistical_test"]["parity_conclusion"] in ("training_signal_present", "no_training_signal")
PY
check "conditions.csv: one row per condition, every statistic, runtime from the done records" py <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1] + "/results.json"))
rows = list(csv.DictReader(open(sys.argv[1] + "/conditions.csv")))
assert [r["condition"] for r in rows] == [r["condition"] for r in d["k_sweep"]], rows
need = ["trained_pwmcc_mean", "r1_pwmcc_mean", "r2_pwmcc_mean", "null_pwmcc", "delta_pwmcc",
        "seed_effect_ci95_low", "seed_min_attainable_p", "verdict", "mwu_parity_p", "explained_variance_mean",
        "l0_mean", "dead_fraction_mean", "steps_trained", "runtime_sec"]
for r, rec in zip(rows, d["k_sweep"]):
    for k in need:
        assert r[k] != "", (r["condition"], k)
    assert r["verdict"] == "underpowered" and float(r["seed_min_attainable_p"]) == 0.05
    assert r["seed_permutation_p_holm"] == "", r  # not run: the design cannot reject
    assert float(r["trained_pwmcc_mean"]) == rec["trained_pwmcc"]["mean"]
    assert float(r["r2_pwmcc_mean"]) == rec["controls"]["r2"]["mean"]
    assert float(r["runtime_sec"]) > 0
PY
check "audit of the run passes" "$bin" audit -q "$tmp/r3"

# -- the report over the run, and over a copy with two conditions' results swapped -----------
"$bin" report --formats svg --out "$tmp/rep" "$tmp/r3" 2>"$tmp/rep.err"
st=$?
check "report succeeds (status $st)" test "$st" -eq 0
check "report: contiguous sections, short rows, LaTeX and sources for every table and number" \
	python3 - "$tmp/rep" "$tmp/r3" <<'PY'
import glob, json, os, re, sys
out, run = sys.argv[1], sys.argv[2]
res = json.load(open(run + "/results.json"))
for md in [out + "/report.md", out + "/core_ablations/summary.md"]:
    text = open(md).read()
    nums = [int(m) for m in re.findall(r"^## (\d+)\. ", text, re.M)]
    assert nums == list(range(1, len(nums) + 1)) and nums, (md, nums)
    assert "<!-- src:" not in text, md
    rows = [l for l in text.splitlines() if l.startswith("|")]
    assert rows and max(len(l) for l in rows) < 200, (md, max(len(l) for l in rows))
    stem = md[:-3]
    ntab = len(re.findall(r"^\|---", text, re.M))
    tex = sorted(glob.glob(stem + ".table*.tex"))
    assert len(tex) == ntab, (md, ntab, tex)
    for t in tex:
        s = open(t).read()
        assert "\\toprule" in s and "\\midrule" in s and "\\bottomrule" in s, t
    assert "![Figure 1: " in text, md
    assert "not drawn" not in text.replace("<!-- figures not drawn", ""), md
    src = json.load(open(stem + ".sources.json"))
    assert src["numbers"], md
    lines = text.splitlines()
    for e in src["numbers"]:
        assert e["text"] in lines[e["line"] - 1], (md, e)
        if e["source"] == "husai report":
            continue
        path = e["source"].split(":", 1)[1]
        v = res
        for k in path.split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        assert v is None or isinstance(v, (int, float)) or (e["format"] == "%s" and v == e["text"]), (e, v)
summary = open(out + "/core_ablations/summary.md").read()
assert "k = 8 is the most consistent" in summary, summary
assert "underpowered" in summary and "smallest attainable p is 0.05" in summary
assert "needs 4 seeds" in summary
PY
cp -r "$tmp/r3" "$tmp/swap"
python3 - "$tmp/swap/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a, b = d["k_sweep"]
for key in ("trained_pwmcc", "explained_variance"):
    a[key], b[key] = b[key], a[key]
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
"$bin" report --force --formats svg --out "$tmp/rep_swap" "$tmp/swap" 2>/dev/null
check "the opening sentence follows the numbers when two conditions' results are swapped" \
	grep -q "k = 4 is the most consistent" "$tmp/rep_swap/core_ablations/summary.md"
check "... and not the old winner" bash -c "! grep -q 'k = 8 is the most consistent' '$tmp/rep_swap/core_ablations/summary.md'"
"$bin" report --formats svg --out "$tmp/rep2" "$tmp/r3" "$tmp/swap" --force 2>/dev/null
check "two runs of one kind appear side by side in report.md" \
	python3 -c 'import sys; t = open(sys.argv[1]).read(); assert "| `r3` |" in t and "| `swap` |" in t' "$tmp/rep2/report.md"
# -- husai audit on the report: every number resolves to its source and prints the same ------
check "audit of the report (runs found beside it) passes" "$bin" audit "$tmp/rep"
cp -r "$tmp/rep" "$tmp/rep_tamper"
python3 - "$tmp/rep_tamper/report.md" <<'PY'
import re, sys
t = open(sys.argv[1]).read().split("\n")
i = next(i for i, l in enumerate(t) if l.startswith("| `r3` |"))
cells = t[i].split(" | ")
cells[3] = "0.9999" + cells[3][6:]   # the trained PWMCC mean of the first row
t[i] = " | ".join(cells)
open(sys.argv[1], "w").write("\n".join(t))
PY
"$bin" audit "$tmp/rep_tamper" >"$tmp/audit_t.out" 2>&1
st=$?
check "audit of a report with an edited number fails (status $st)" test "$st" -eq 1
check "... naming the file, line, the number and its source" \
	grep -q "rep_tamper/report.md:[0-9]*:[0-9]*: prints '0.9999' where the report wrote '[0-9.]*' (from r3/results.json:k_sweep.0.trained_pwmcc.mean)" "$tmp/audit_t.out"
cp -r "$tmp/rep" "$tmp/rep_added"
sed -i '0,/^| 64, 4 |/s/^| 64, 4 | \(.*\) |$/| 64, 4 | \1 | 0.123 |/' "$tmp/rep_added/core_ablations/summary.md"
"$bin" audit "$tmp/rep_added" >"$tmp/audit_a.out" 2>&1
st=$?
check "a number added to a table row is named (status $st)" \
	grep -q "summary.md:[0-9]*:[0-9]*: the number '0.123' has no source" "$tmp/audit_a.out"
mkdir -p "$tmp/moved" && cp -r "$tmp/rep" "$tmp/moved/"
"$bin" audit "$tmp/moved/rep" >"$tmp/audit_m.out" 2>&1
st=$?
check "a moved report without its runs fails, saying where to give them (status $st)" \
	grep -q "run directory 'r3' not found beside the report; give it on the command line" "$tmp/audit_m.out"
check "... and passes with the run on the command line" "$bin" audit "$tmp/moved/rep" "$tmp/r3"


# A real 5-seed run with a large effect (SAEs on a planted set: trained far above random) gets a
# seed-level verdict with its CI from the exact permutation over models (p = 1/C(10,5) = 1/252),
# not `underpowered`; the pair-level Mann–Whitney stays a labelled parity field.
"$bin" plant --out "$tmp/q.h5" --set plant.d=32 --set plant.rows=8000 --set plant.features=48 >/dev/null
cat >"$tmp/st5.yaml" <<YAML
experiment:
  kind: stability
  name: st5
  activations: $tmp/q.h5
  seeds: [1, 2, 3, 4, 5]
  k_values: [4]
  fixed_d_sae: 48
  d_sae_values: []
  fixed_k: 4
sae:
  architecture: topk
  lr: 3e-3
  batch_size: 256
  epochs: 10
YAML
"$bin" run --out "$tmp/r5" "$tmp/st5.yaml" >"$tmp/r5.log" 2>&1
st=$?
check "5-seed run on a planted set succeeds (status $st)" test "$st" -eq 0
check "5 seeds, large effect: a seed-level verdict with its CI, exact p = 1/252, MWU as parity" \
	python3 - "$tmp/r5" <<'PY'
import json, sys
r = json.load(open(sys.argv[1] + "/results.json"))["k_sweep"][0]
sl = r["seed_level"]
assert r["verdict"] == sl["verdict"] == "training_signal_present", r["verdict"]
assert sl["n_models_trained"] == 5 and sl["permutation"]["exact"] is True
assert abs(sl["permutation_p"] - 1 / 252) < 1e-15, sl["permutation_p"]
assert sl["seeds_needed"] is None
assert 0 < sl["bootstrap_ci95_low"] <= sl["effect"] <= sl["bootstrap_ci95_high"], sl
mw = r["mann_whitney_parity"]
assert mw["test"].startswith("Mann-Whitney") and "parity" in mw["role"], mw
PY

finish
