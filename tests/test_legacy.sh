#!/usr/bin/env bash
# test_legacy.sh — the legacy phase-4a preset (docs/formulas.md A2, §4.7 c) end to end on a tiny run
# (p = 31): the activation set holds only the train rows (floor(961 x 0.9) = 864, rows train),
# the SAE configs carry topk_upstream + aux, batch 256 and the preset label, results.json
# records the preset and the keys the run changed; `husai extract --rows` and `extract.rows`
# choose the rows, and bad values are refused (CLI usage, config line:col).
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" legacy

tiny=(--set data.p=31 --set transformer.batch_size=256 --set transformer.epochs=1
      --set sae.d_sae=64 --set sae.epochs=2 --set experiment.bootstrap_samples=200
      --set "experiment.seeds=42,123,456")
"$bin" run "${tiny[@]}" --out "$tmp/run" "$src/configs/parity/phase4a_legacy.yaml" \
	>"$tmp/out" 2>"$tmp/err"; st=$?
check "tiny legacy run succeeds (status $st)" test "$st" -eq 0
[ "$st" -eq 0 ] || cat "$tmp/err"
acts="$tmp/run/activations.h5"
"$bin" inspect "$acts" >"$tmp/acts.txt" 2>&1
check "activation set records rows train" grep -q '@rows = "train"' "$tmp/acts.txt"
check "activation set holds the 864 train rows" grep -q '/activations .*\[864, 128\]' "$tmp/acts.txt"
"$bin" inspect "$tmp/run/sae/phase4a/sae_seed42.h5" --config >"$tmp/sae.txt" 2>&1 ||
	"$bin" inspect "$tmp/run/sae/phase4a/sae_seed42.h5" >"$tmp/sae.txt" 2>&1
python3 - "$tmp/run" <<'PY' >"$tmp/py.txt" 2>&1
import json, sys
r = json.load(open(sys.argv[1] + "/results.json"))
assert r["preset"] == "legacy", r["preset"]
s = r["preset_settings"]
assert s["extract.rows"] == "train" and s["sae.batch_size"] == "256" and s["sae.upstream_aux"] == "true", s
dev = {d["key"]: d for d in r["preset_deviations"]}
assert set(dev) == {"sae.d_sae", "sae.epochs"}, dev
assert dev["sae.d_sae"]["value"] == "64" and dev["sae.d_sae"]["preset_value"] == "1024", dev
# 2 epochs of ceil(864/256) = 4 steps, as upstream's drop_last false
assert all(m["steps_trained"] == 8 for m in r["per_seed_metrics"]), r["per_seed_metrics"]
assert r["trained"]["n_pairs"] == 3 and r["conclusion"], r["trained"]
for job in ("extract", "sae"):
    text = open(sys.argv[1] + "/jobs/%s.yaml" % job).read()
    assert 'preset: "legacy"' in text, (job, text)
print("ok")
PY
check "results.json records the preset, its settings and the deviations" grep -qx ok "$tmp/py.txt"
[ "$(cat "$tmp/py.txt")" = ok ] || cat "$tmp/py.txt"
check "the deviations are warned about with line:col" grep -q "warning: .*sae.d_sae' is 64, preset legacy has 1024" "$tmp/err"
# the recorded config_yaml attributes (plain text inside the HDF5 object header)
sae="$tmp/run/sae/phase4a/sae_seed42.h5"
check "the SAE's recorded config names the preset, upstream aux and batch 256" \
	sh -c "grep -aq 'preset: \"legacy\"' '$sae' && grep -aq 'upstream_aux: true' '$sae' && grep -aq 'batch_size: 256' '$sae'"
check "the activation set's config names rows train and the preset" \
	sh -c "grep -aq 'rows: \"train\"' '$acts' && grep -aq 'preset: \"legacy\"' '$acts'"

# husai extract --rows on the run's transformer
tf="$tmp/run/transformer/transformer_final.h5"
"$bin" extract --rows train --split-fraction 0.5 --out "$tmp/half.h5" "$tf" >"$tmp/out" 2>&1
check "extract --rows train --split-fraction 0.5 keeps floor(961/2) = 480 rows" grep -q ": 480 rows" "$tmp/out"
"$bin" extract --out "$tmp/all.h5" "$tf" >"$tmp/out" 2>&1
check "extract without --rows keeps all 961 rows" grep -q ": 961 rows x .*rows all" "$tmp/out"
"$bin" extract --rows val --out "$tmp/bad.h5" "$tf" >"$tmp/out" 2>&1; st=$?
check "--rows val is a usage error (status 2)" test "$st" -eq 2
check "--rows val names the value" grep -q "bad value 'val' for option '--rows'" "$tmp/out"
check "no file written for a bad --rows" test ! -e "$tmp/bad.h5"
printf 'extract:\n  layer: 1\n  rows: val\n' >"$tmp/job.yaml"
"$bin" extract --config "$tmp/job.yaml" --out "$tmp/bad.h5" "$tf" >"$tmp/out" 2>&1; st=$?
check "extract.rows: val is refused (status $st)" test "$st" -eq 1
check "the refusal names file and line:col" grep -q "job.yaml:3:3: .extract.rows.: expected one of all, train, found .val." "$tmp/out"
printf 'extract:\n  rows: [train]\n' >"$tmp/job2.yaml"
"$bin" extract --config "$tmp/job2.yaml" --out "$tmp/bad.h5" "$tf" >"$tmp/out" 2>&1; st=$?
check "extract.rows as a list is refused with line:col" sh -c "test $st -eq 1 && grep -q 'job2.yaml:2:' '$tmp/out'"
# a run config with a bad value is refused before anything runs
"$bin" run "${tiny[@]}" --set extract.rows=some --out "$tmp/run2" \
	"$src/configs/parity/phase4a_legacy.yaml" >"$tmp/out" 2>&1; st=$?
check "a run with extract.rows: some fails" test "$st" -ne 0
check "... naming extract.rows" grep -q "rows" "$tmp/out"
# a given activation set of all rows does not suit the legacy preset
"$bin" run "${tiny[@]}" --set "experiment.activations=$tmp/all.h5" --out "$tmp/run4" \
	"$src/configs/parity/phase4a_legacy.yaml" >"$tmp/out" 2>&1; st=$?
check "legacy refuses an activation set of all rows" \
	sh -c "test $st -ne 0 && grep -q 'all.h5:rows: preset legacy trains on the train rows only' '$tmp/out'"
"$bin" run "${tiny[@]}" --set "experiment.activations=$acts" --out "$tmp/run5" \
	"$src/configs/parity/phase4a_legacy.yaml" >"$tmp/out" 2>&1; st=$?
check "legacy accepts a given train-rows activation set (status $st)" test "$st" -eq 0
printf 'experiment:\n  kind: phase4a\n  preset: legacyy\n' >"$tmp/p.yaml"
"$bin" run --out "$tmp/run3" "$tmp/p.yaml" >"$tmp/out" 2>&1; st=$?
check "an unknown preset is refused with line:col" sh -c "test $st -ne 0 && grep -q 'p.yaml:3:3' '$tmp/out'"

finish test_legacy
