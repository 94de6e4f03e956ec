#!/usr/bin/env bash
# test_report.sh — `husai report` end to end on the fixture run directories
# (tests/fixtures/report/runs): golden Markdown, every figure file written, a run directory
# moved elsewhere gives identical bytes, checksums verified (a tampered run is refused unless
# --force), bad input (missing/malformed results.json, unknown kind, wrong type, missing key)
# named in the error, NaN values as n/a with a footnote, and the command-line contract.
set -u
B="$HUSAI_BIN"
F="$HUSAI_SOURCE_DIR/tests/fixtures/report/runs"
G="$HUSAI_SOURCE_DIR/tests/fixtures/report/golden"
T="$TEST_TMP"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }

# -- golden Markdown and every figure -------------------------------------------------------
"$B" report --out "$T/a" "$F/phase4a" "$F/core" "$F/adaptive" "$F/consistency" "$F/demo" \
	"$F/slice" 2>"$T/a.err" ||
	{ cat "$T/a.err"; fail "report on the fixture runs"; }
for f in report.md phase4a/summary.md core_ablations/summary.md adaptive_l0/summary.md \
	consistency_sweep/summary.md demo/summary.md benchmark_slice/summary.md; do
	diff -u "$G/$f" "$T/a/$f" || fail "golden $f differs"
done
for f in phase4a/figures/F1_trained_vs_random phase4a/figures/F6_pairwise_heatmaps \
	core_ablations/figures/F2_k_sweep core_ablations/figures/F3_d_sae_sweep \
	core_ablations/figures/F6_pairwise_heatmaps core_ablations/figures/F7_ev_vs_pwmcc \
	core_ablations/figures/F8_training_curves core_ablations/figures/F9_feature_stability \
	adaptive_l0/figures/F4_adaptive_l0 adaptive_l0/figures/F9_feature_stability \
	consistency_sweep/figures/F5_consistency consistency_sweep/figures/F7_ev_vs_pwmcc \
	demo/figures/F1_trained_vs_random demo/figures/F8_training_curves; do
	for e in png svg pdf; do
		test -s "$T/a/$f.$e" || fail "missing figure $f.$e"
	done
done
head -c 8 "$T/a/phase4a/figures/F1_trained_vs_random.png" | od -An -c | grep -q 'P   N   G' || fail "not a PNG"
grep -q '<svg' "$T/a/phase4a/figures/F1_trained_vs_random.svg" || fail "not an SVG"
head -c 5 "$T/a/phase4a/figures/F1_trained_vs_random.pdf" | grep -q '%PDF-' || fail "not a PDF"
# links in the Markdown point at files that exist
grep -o '](phase4a/figures/[^)]*)' "$T/a/report.md" | tr -d '()]' | while read -r l; do
	test -s "$T/a/$l" || fail "report.md links to missing $l"
done

# well-formed SVG whose references all resolve (when a python3 is at hand)
if command -v python3 >/dev/null; then
	python3 - "$T/a" <<'PY' || fail "SVG not well-formed or dangling id references"
import glob, sys, xml.etree.ElementTree as ET
for f in glob.glob(sys.argv[1] + '/**/*.svg', recursive=True):
    t = ET.parse(f)
    ids = [e.get('id') for e in t.iter() if e.get('id')]
    assert len(ids) == len(set(ids)), f
    refs = set()
    for e in t.iter():
        for v in e.attrib.values():
            if v.startswith('#'):
                refs.add(v[1:])
            if 'url(#' in v:
                refs.add(v.split('url(#')[1].split(')')[0])
    assert refs <= set(ids), (f, refs - set(ids))
PY
fi

# -- a suite's directory stands for its runs (sub-directories with results.json, name order) --
mkdir -p "$T/suite/jobs" && ln -s "$F/phase4a" "$T/suite/phase4a" && ln -s "$F/core" "$T/suite/core"
"$B" report --out "$T/suite_r" "$T/suite" 2>"$T/suite.err" || { cat "$T/suite.err"; fail "report on a suite directory"; }
"$B" report --out "$T/suite_l" "$F/core" "$F/phase4a" 2>/dev/null || fail "report on the two runs"
cmp -s "$T/suite_r/report.md" "$T/suite_l/report.md" || fail "a suite directory differs from its runs listed"

# -- two runs of each kind side by side: both runs' numbers in report.md ----------------------
mkdir -p "$T/second"
for k in phase4a adaptive consistency slice; do
	cp -r "$F/$k" "$T/second/${k}_b"
	python3 - "$T/second/${k}_b/results.json" <<'PY' 2>/dev/null || sed -i 's/"mean": 0\.\([0-9]\)/"mean": 0.9\1/' "$T/second/${k}_b/results.json"
import json, sys
d = json.load(open(sys.argv[1]))
def bump(v):   # every mean + 0.5: the second run's numbers differ from the first's
    if isinstance(v, dict):
        for key in v:
            if key == "mean" and isinstance(v[key], float):
                v[key] += 0.5
            else:
                bump(v[key])
    elif isinstance(v, list):
        for x in v:
            bump(x)
bump(d)
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
done
"$B" report --force --formats svg --out "$T/side" "$F/phase4a" "$T/second/phase4a_b" "$F/adaptive" \
	"$T/second/adaptive_b" "$F/consistency" "$T/second/consistency_b" "$F/slice" "$T/second/slice_b" \
	2>/dev/null || fail "report on two runs of each kind"
python3 - "$T/side/report.md" "$F" "$T/second" <<'PY' || fail "two runs of one kind are not side by side"
import json, sys
t = open(sys.argv[1]).read()
lines = t.splitlines()
# phase4a: one column per run, each with its own trained mean
hdr = next(l for l in lines if l.startswith("| Group |"))
assert "`phase4a`" in hdr and "`phase4a_b`" in hdr, hdr
row = next(l for l in lines if l.startswith("| Trained |"))
for run in (sys.argv[2] + "/phase4a", sys.argv[3] + "/phase4a_b"):
    m = json.load(open(run + "/results.json"))["trained"]["mean"]
    assert "%.6f" % m in row, (run, m, row)
# adaptive, consistency: rows of both runs in one table, each with its own numbers
for k, key in (("adaptive", "search_records"), ("consistency", "records")):
    for run, name in ((sys.argv[2] + "/" + k, k), (sys.argv[3] + "/" + k + "_b", k + "_b")):
        rec = json.load(open(run + "/results.json"))[key][0]
        want = "%.5f" % rec["trained_pwmcc"]["mean"]
        assert any(l.startswith("| `%s` |" % name) and want in l for l in lines), (name, want)
    assert "- `%s_b`: selected" % k in t, k
assert "External benchmark-aligned slice (`slice_b`)" in t
PY
"$B" audit "$T/side" "$F/phase4a" "$T/second/phase4a_b" "$F/adaptive" "$T/second/adaptive_b" \
	"$F/consistency" "$T/second/consistency_b" "$F/slice" "$T/second/slice_b" >"$T/side.audit" 2>&1
grep -q "side: ok, [0-9]* numbers of the report match" "$T/side.audit" || { cat "$T/side.audit"; fail "audit of the side-by-side report"; }

# -- a moved run directory, relative paths: identical bytes ----------------------------------
mkdir -p "$T/moved/deeper"
cp -r "$F/phase4a" "$F/core" "$F/adaptive" "$F/consistency" "$F/demo" "$F/slice" "$T/moved/deeper/"
(cd "$T/moved" && "$B" report --out out deeper/phase4a deeper/core deeper/adaptive \
	deeper/consistency deeper/demo deeper/slice 2>/dev/null) || fail "report from a moved run directory"
diff -r "$T/a" "$T/moved/out" >/dev/null || fail "moved run directory gives different output"

# -- only the formats asked for ---------------------------------------------------------------
"$B" report --formats svg --out "$T/svg" "$F/phase4a" 2>/dev/null || fail "--formats svg"
test -s "$T/svg/phase4a/figures/F1_trained_vs_random.svg" || fail "--formats svg wrote no svg"
test ! -e "$T/svg/phase4a/figures/F1_trained_vs_random.png" || fail "--formats svg wrote a png"
cmp -s "$T/svg/phase4a/figures/F1_trained_vs_random.svg" "$T/a/phase4a/figures/F1_trained_vs_random.svg" ||
	fail "SVG bytes depend on which other figures were drawn"

# -- checksums: a tampered run is refused unless --force --------------------------------------
cp -r "$F/phase4a" "$T/tamper"
sed -i 's/"alpha": 0.05/"alpha": 0.01/' "$T/tamper/results.json"
if "$B" report --out "$T/t" "$T/tamper" 2>"$T/t.err"; then fail "tampered run accepted"; fi
grep -q 'changed' "$T/t.err" || grep -q 'audit failed' "$T/t.err" || { cat "$T/t.err"; fail "tamper message"; }
grep -q -- '--force' "$T/t.err" || fail "tamper message does not mention --force"
test ! -e "$T/t/report.md" || fail "tampered run produced a report"
"$B" report --force --out "$T/t" "$T/tamper" 2>"$T/t2.err" || fail "--force on a tampered run"
grep -q 'warning' "$T/t2.err" || fail "--force gives no warning"
grep -q 'checksums do not match' "$T/t/phase4a/summary.md" || fail "summary hides the mismatch"

# -- bad input ---------------------------------------------------------------------------------
cp -r "$F/phase4a" "$T/nores" && rm "$T/nores/results.json"
if "$B" report --out "$T/n" "$T/nores" 2>"$T/n.err"; then fail "missing results.json accepted"; fi
grep -q 'missing' "$T/n.err" || grep -q 'audit failed' "$T/n.err" || { cat "$T/n.err"; fail "missing results.json message"; }
if "$B" report --force --out "$T/n" "$T/nores" 2>"$T/n2.err"; then fail "missing results.json accepted with --force"; fi
grep -q 'nores/results.json' "$T/n2.err" || { cat "$T/n2.err"; fail "missing results.json not named"; }

expect_error() { # name, pattern
	if "$B" report --out "$T/bad_$1" "$F/$1" 2>"$T/$1.err"; then fail "$1 accepted"; fi
	grep -q -- "$2" "$T/$1.err" || { cat "$T/$1.err"; fail "$1: message lacks '$2'"; }
	test ! -e "$T/bad_$1/report.md" || fail "$1 produced a report"
}
expect_error bad_json 'bad_json/results.json:[0-9]*:[0-9]*: invalid JSON'
expect_error bad_kind "results.json:experiment: unknown experiment kind 'phase9z'"
expect_error bad_type 'results.json:trained.mean: expected a number or null'
expect_error bad_missing 'results.json:random: missing required key'

# -- NaN values: gaps and footnotes, never zero ---------------------------------------------
"$B" report --formats svg --out "$T/nan" "$F/core_nan" 2>/dev/null || fail "report with NaN values"
grep -q 'n/a\[^nan\]' "$T/nan/core_ablations/summary.md" || fail "null mean not shown as n/a"
grep -q '"source": "results.json:k_sweep.1.trained_pwmcc.mean"' "$T/nan/core_ablations/summary.sources.json" ||
	fail "the null mean's source is not in the sidecar"
grep -q '^\[^nan\]: n/a: the value is NaN' "$T/nan/core_ablations/summary.md" || fail "no NaN footnote"
grep -q '(F2).* 1 null value(s) are left as gaps: k_sweep.1.trained_pwmcc.mean\.$' \
	"$T/nan/core_ablations/summary.md" || fail "F2 NaN gaps not reported"
grep -q '(F3).*left as gaps: d_sae_sweep.2.explained_variance.mean\.$' "$T/nan/core_ablations/summary.md" ||
	fail "F3 NaN gaps not reported"

# -- templates: built in by default, a directory with --templates, errors name line:column ----
cp -r "$HUSAI_SOURCE_DIR/templates" "$T/tmpl"
sed -i '1s/.*/# My Phase 4a Title/' "$T/tmpl/summary_phase4a.md"
"$B" report --templates "$T/tmpl" --formats svg --out "$T/tm" "$F/phase4a" 2>/dev/null || fail "--templates"
head -1 "$T/tm/phase4a/summary.md" | grep -q '^# My Phase 4a Title$' || fail "--templates not used"
HUSAI_TEMPLATES="$T/tmpl" "$B" report --formats svg --out "$T/tm2" "$F/phase4a" 2>/dev/null || fail "HUSAI_TEMPLATES"
head -1 "$T/tm2/phase4a/summary.md" | grep -q '^# My Phase 4a Title$' || fail "HUSAI_TEMPLATES not used"
printf '# t\n\nvalue: {{trained.no_such_key|%%.3f}}\n' >"$T/tmpl/summary_phase4a.md"
if "$B" report --templates "$T/tmpl" --formats svg --out "$T/tm3" "$F/phase4a" 2>"$T/tm3.err"; then
	fail "template with an unknown key accepted"
fi
grep -q "tmpl/summary_phase4a.md:3:8: key 'trained.no_such_key' not found" "$T/tm3.err" ||
	{ cat "$T/tm3.err"; fail "template error does not name line:column and key"; }

# -- the report never writes into a run directory ---------------------------------------------
cp -r "$F/phase4a" "$T/inside"
"$B" report --out "$T/inside/rep" "$T/inside" 2>/dev/null; test $? -eq 2 || fail "--out inside a run dir accepted"

# -- command line ------------------------------------------------------------------------------
"$B" report --help | grep -q '^usage: husai report' || fail "--help"
"$B" report "$F/phase4a" 2>/dev/null; test $? -eq 2 || fail "missing --out is not a usage error"
"$B" report --out "$T/u" 2>/dev/null; test $? -eq 2 || fail "missing run dir is not a usage error"
"$B" report --formats gif --out "$T/u" "$F/phase4a" 2>/dev/null; test $? -eq 2 || fail "bad --formats"
"$B" report --bogus 2>/dev/null; test $? -eq 2 || fail "unknown option"
echo "test_report.sh: all passed"
