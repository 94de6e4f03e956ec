#!/usr/bin/env bash
# test_stability.sh — the `stability` kind end to end on activations brought from outside
# (run/exp_stability.c): a 2 000 x 64 .npy made here, imported with husai import-activations,
# 3 seeds x 2 conditions trained and analysed by husai run, a report with figures and the
# Markdown summary naming the set; manifest.json lists the set as an input with its sha256 and
# `husai audit --inputs` verifies it (and fails once it changes); the kind refuses a config
# without an activation set, by name.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" stability
command -v python3 >/dev/null || { echo "SKIP: python3 needed to write the .npy"; exit 77; }
python3 "$src/tests/fixtures/gen_activation_sources.py" "$tmp" 2000 64 --only-npy
cd "$tmp" || exit 1
"$bin" import-activations --model toy --hook planted --out acts.h5 x.npy >log 2>&1
check "import the npy" test -s acts.h5
cat >st.yaml <<'YAML'
experiment:
  kind: stability
  name: stability
  activations: acts.h5
  seeds: [1, 2, 3]
  k_values: [4, 8]
  fixed_d_sae: 32
  d_sae_values: []
  fixed_k: 8
  bootstrap_samples: 200
sae:
  architecture: topk
  batch_size: 256
  epochs: 5
YAML
"$bin" run --out run st.yaml >>log 2>&1
check "husai run (stability) succeeds" test $? -eq 0
for s in 1 2 3; do for k in 4 8; do
	check "SAE seed $s k $k" test -s "run/sae/k_sweep_dsae32_k$k/sae_seed$s.h5"
done; done
check "results.json names the kind" grep -q '"experiment": "stability"' run/results.json
check "results.json records the set's sha256" grep -q "\"sha256\": \"$(sha256sum acts.h5 | cut -d' ' -f1)\"" run/results.json
check "manifest lists the activation set as an input" grep -q '"role": "activation_set"' run/manifest.json
"$bin" audit --inputs run >audit.txt 2>&1
check "audit --inputs verifies it" grep -q "inputs outside the run" audit.txt
"$bin" audit run >audit0.txt 2>&1
check "plain audit lists it as outside" grep -q "outside   ../acts.h5" audit0.txt
"$bin" report --out rep run >>log 2>&1
check "report succeeds" test $? -eq 0
check "summary.md" grep -q "Seed Stability on Given Activations" rep/stability/summary.md
check "summary names the set" grep -q "model toy" rep/stability/summary.md
for f in F2_k_sweep F6_pairwise_heatmaps F8_training_curves F9_feature_stability; do
	check "figure $f" test -s "rep/stability/figures/$f.png"
done
cp acts.h5 acts.bak
printf 'x' >>acts.h5
check "audit --inputs fails once the set changed" bash -c "! '$bin' audit --inputs run >audit2.txt 2>&1"
check "... saying which" grep -q "changed   ../acts.h5" audit2.txt
mv acts.bak acts.h5
sed 's/  activations: acts.h5//' st.yaml >noacts.yaml
check "a stability config without activations is refused" bash -c "! '$bin' run --out run2 noacts.yaml 2>err.txt"
check "... naming the key" grep -q "experiment.activations" err.txt
finish stability
