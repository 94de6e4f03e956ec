#!/usr/bin/env bash
# test_describe.sh — self-describing artifacts (docs/artifacts.md, "Self-describing datasets"):
# a small pipeline writes every kind of husai HDF5 file — transformer checkpoints (trained and
# imported), an extracted, an imported (with --token-ids) and a planted activation set, SAE
# checkpoints (step 0, final, imported), analysis.h5 with every optional part (controls,
# matchings, Sinkhorn, activation-level agreement, truth, stability probability), pair caches
# with and without argmaxes — and every
# dataset of every file must carry a non-empty `description` and a `dims` attribute naming as
# many dimensions as the dataset's rank, read off `husai inspect`.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" describe
cd "$tmp" || exit 1
# npy FILE DESCR SHAPE BYTES: a NumPy .npy (format 1.0) of zero bytes
npy() {
	local h="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
	local len=$(( (10 + ${#h} + 1 + 63) / 64 * 64 - 10 ))
	{ printf '\223NUMPY\001\000'; printf "\\$(printf %03o $((len & 255)))\\$(printf %03o $((len >> 8)))"
	  printf '%s%*s\n' "$h" $((len - ${#h} - 1)) ""; head -c "$4" /dev/zero; } >"$1"
}
# undescribed FILE.h5: print each dataset without a non-empty description or with dims whose
# count of names differs from its rank; status 1 when there is one or inspect fails
undescribed() {
	"$bin" inspect "$1" >"$tmp/inspect.txt" || { echo "$1: husai inspect failed"; return 1; }
	awk -v f="$1" '
	function done() {
		if (ds == "") return
		n = dims == "" ? 0 : split(dims, parts, ",")
		if (!desc) { print f ": " ds ": no description"; bad = 1 }
		if (!hasdims) { print f ": " ds ": no dims attribute"; bad = 1 }
		else if (n != rank) { print f ": " ds ": dims \"" dims "\" name " n " dimensions, rank " rank; bad = 1 }
	}
	/^  \// { done(); ds = ""; if ($0 ~ /\(group\)$/) next
		ds = $1; match($0, /\[[^]]*\]/); shape = substr($0, RSTART + 1, RLENGTH - 2)
		rank = shape == "" ? 0 : split(shape, parts, ","); desc = 0; hasdims = 0; dims = ""; next }
	/^    @description = / { desc = $0 !~ /= ""$/ }
	/^    @dims = / { hasdims = 1; dims = $0; sub(/^    @dims = "/, "", dims); sub(/"$/, "", dims) }
	END { done(); exit bad }' "$tmp/inspect.txt"
}

# the golden pipeline at one condition: transformer, extraction, SAEs, analysis with R1 and R2
"$bin" run --out r --set 'experiment.k_values=[4]' --set 'experiment.d_sae_values=[]' \
	--set experiment.fixed_k=4 "$src/tests/fixtures/golden/config.yaml" >run.log 2>&1
check "the pipeline runs" test -s r/analysis/k_sweep_dsae64_k4/analysis.h5
# a planted set, SAEs on it, and an analysis with every optional part
"$bin" plant --out p.h5 --set plant.d=16 --set plant.rows=600 --set plant.features=24 >>log 2>&1
printf 'sae:\n  d_sae: 16\n  k: 3\n  epochs: 2\n  batch_size: 128\n' >sae.yaml
"$bin" train-sae --config sae.yaml --activations p.h5 --out ps --seeds 1,2 >>log 2>&1
"$bin" analyze --group g=ps/sae_seed1.h5,ps/sae_seed2.h5 --r2-from g=ps/sae_seed1_step0.h5,ps/sae_seed2_step0.h5 \
	--sinkhorn 0.1 --activations p.h5 --act-rows 200 --truth p.h5 --truth-rows 200 \
	--stability-threshold 0.5 --out pa >>log 2>&1
check "the planted analysis runs" test -s pa/analysis.h5
# a pair cache with argmaxes (product 0: a trained pair) and one without (product 1: R1's)
for p in 0 1; do
	"$bin" analyze --group g=ps/sae_seed1.h5,ps/sae_seed2.h5 --control r1 --pair-cache pc \
		--pair-only $p >>log 2>&1
done
check "pair caches written" test -s pc/g_0.h5 -a -s pc/g_1.h5
# imports: an SAE, a transformer, and activations with token ids
"$bin" import --out imp "$src/tests/fixtures/import/saelens_a" >>log 2>&1
"$bin" import --out imp_tf "$src/tests/fixtures/import/transformer.pt" >>log 2>&1
npy x.npy '<f4' '(50, 8)' 1600
npy ids.npy '<i8' '(50,)' 400
check "import-activations with --token-ids" \
	"$bin" import-activations --token-ids ids.npy --out ia.h5 x.npy >>log 2>&1

files=$(find . -type f -name '*.h5' | sort)
for want in transformer/transformer_final.h5 activations.h5 sae_seed1.h5 sae_seed1_step0.h5 \
	analysis.h5 p.h5 pa/analysis.h5 ia.h5 pc/g_0.h5 pc/g_1.h5; do
	check "the pipeline wrote $want" grep -q "$want\$" <<<"$files"
done
check "an imported SAE" test -n "$(find imp -name '*.h5')"
check "an imported transformer" test -n "$(find imp_tf -name '*.h5')"
"$bin" inspect ia.h5 >ia.txt 2>&1
check "inspect shows /token_ids" grep -q '^  /token_ids  *int32  *\[50\]' ia.txt
pa=$("$bin" inspect pa/analysis.h5)
for part in /controls/g/r2/pwmcc /matching/g/1_2/sinkhorn_sim /pairs/g/act_abs_pearson \
	/truth/g/1/best_cos /stability_prob/g/unstable_angles /per_feature/g/1/stability; do
	check "the analysis holds $part" grep -q "^  $part " <<<"$pa"
done
n=0
for f in $files; do
	check "every dataset of $f is described" undescribed "$f"
	n=$((n + 1))
done
check "at least 12 files walked ($n)" test "$n" -ge 12
finish describe
