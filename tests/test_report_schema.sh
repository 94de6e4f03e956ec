#!/usr/bin/env bash
# test_report_schema.sh — `husai report` checks a run's results.json against the schema of
# formats/results_schema.c when it opens the run (docs/artifacts.md "The schema"): a key the
# kind requires that is missing, or a key present with another type, anywhere in the file
# (records, summaries, seed pairs, maps of curves), is refused with status 1 and a message
# naming the file, the key path and the expected type, and nothing of the report is written,
# not even for the good runs given with it; an optional key may be absent, and a key the
# schema knows under another kind (phase 4a's `records`) is not looked at.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" report_schema
command -v python3 >/dev/null || { echo "python3 not found: skipped"; exit 77; }
F="$src/tests/fixtures/report/runs"

# edit RUN NAME PYTHON: a copy of fixture RUN as $tmp/NAME whose results.json (d) PYTHON changes
edit() {
	rm -rf "${tmp:?}/$2" && cp -r "$F/$1" "$tmp/$2" &&
		python3 - "$tmp/$2/results.json" "$3" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
exec(sys.argv[2])
json.dump(d, open(p, "w"), indent=2)
PY
}

# refused NAME PATTERN [MORE RUNS]: the report over $tmp/NAME (after the good runs given) exits 1
# naming results.json and PATTERN, and writes nothing
refused() {
	local name=$1 pattern=$2 out="$tmp/out_$1"
	shift 2
	"$bin" report --force --formats svg --out "$out" "$@" "$tmp/$name" 2>"$tmp/$name.err"
	local st=$?
	if [ "$st" -ne 1 ]; then
		echo "status $st, expected 1"; cat "$tmp/$name.err"; return 1
	fi
	grep -q -- "$name/results.json:$pattern" "$tmp/$name.err" || { cat "$tmp/$name.err"; return 1; }
	[ -z "$(ls -A "$out" 2>/dev/null)" ] || { echo "wrote:"; ls -R "$out"; return 1; }
}

reported() {
	"$bin" report --force --formats svg --out "$tmp/out_$1" "$tmp/$1" 2>"$tmp/$1.err" ||
		{ cat "$tmp/$1.err"; return 1; }
	test -s "$tmp/out_$1/report.md"
}

edit core core_no_random 'del d["k_sweep"][1]["random_pwmcc"]'
check "a record without a required summary" \
	refused core_no_random 'k_sweep.1.random_pwmcc: missing required key: expected an object' \
	"$F/phase4a"
edit core core_bad_ci 'd["d_sae_sweep"][0]["trained_pwmcc"]["ci95_low"] = "0.3"'
check "a summary's CI as a string" \
	refused core_bad_ci 'd_sae_sweep.0.trained_pwmcc.ci95_low: expected a number or null'
edit core core_no_x 'del d["d_sae_sweep"][2]["d_sae"]'
check "a d_sae sweep record without its d_sae" \
	refused core_no_x 'd_sae_sweep.2.d_sae: missing required key: expected a number or null'
edit core core_bad_curve 'c = d["training_curves"]["k_sweep_dsae128_k8/123"]; c["l0"] = 3'
check "a training curve's metric not a list" \
	refused core_bad_curve 'training_curves.k_sweep_dsae128_k8/123.l0: expected a list of numbers'
edit core core_no_step 'del d["training_curves"]["k_sweep_dsae128_k8/42"]["step"]'
check "a training curve without its steps" \
	refused core_no_step 'training_curves.k_sweep_dsae128_k8/42.step: missing required key'
edit adaptive adaptive_no_search 'del d["search_records"]'
check "an adaptive run without its search" \
	refused adaptive_no_search 'search_records: missing required key: expected a list of objects'
edit adaptive adaptive_bad_delta 'd["search_records"][0]["delta_pwmcc"] = [1]'
check "a delta as a list" refused adaptive_bad_delta 'search_records.0.delta_pwmcc: expected a number'
edit consistency consistency_no_lambda 'del d["records"][0]["lambda_consistency"]'
check "a λ record without its λ" \
	refused consistency_no_lambda 'records.0.lambda_consistency: missing required key'
edit phase4a phase4a_bad_pair 'd["trained"]["pairwise"][3]["seed_a"] = 42.5'
check "a seed pair's seed not an integer" \
	refused phase4a_bad_pair 'trained.pairwise.3.seed_a: expected an integer'
edit phase4a phase4a_no_random 'del d["random"]'
check "phase 4a without its random summary" refused phase4a_no_random 'random: missing required key'
edit phase4a phase4a_bad_meta 'd["run_metadata"]["command"] = 7'
check "run_metadata.command not a string" \
	refused phase4a_bad_meta 'run_metadata.command: expected a string'

# tolerated: optional keys absent, keys of other kinds, unknown keys
edit core core_lean 'del d["per_feature_stability"]; del d["training_curves"]; del d["k_sweep"][0]["controls"]'
check "a core run without its optional keys reports" reported core_lean
edit demo demo_lean 'del d["random"]; del d["controls"]'
check "a demo run without random or controls reports" reported demo_lean
edit phase4a phase4a_other 'd["records"] = 5; d["conditions"] = "x"; d["something_new"] = {"a": 1}'
check "keys of other kinds and unknown keys are not looked at" reported phase4a_other
finish test_report_schema
