#!/usr/bin/env bash
# test_run_untrusted.sh — `husai run` on configs and runs that must not pass for a result
# (issue "Untrusted archives"): non-finite and out-of-domain numbers are config errors naming
# the key and line:column before anything is written; a diverging training fails its job
# naming the step and the tensor, and is never recorded done; a checkpoint holding NaN fails
# the smoke checks and is refused by analyze; stage sections are checked against the user's
# file before any job runs; --dry-run writes nothing.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" run_untrusted
small=(--set data.p=31 --set experiment.expect.p=31 --set sae.d_sae=256 --set experiment.expect.d_sae=256
       --set sae.epochs=3 --set sae.batch_size=256 --set transformer.batch_size=256)
run() { "$bin" run "${small[@]}" "$@" "$src/configs/smoke.yaml"; }

# non-finite and absurd numbers: config errors naming the key, nothing written
for bad in sae.lr=1e30 sae.lr=.inf sae.lr=.nan transformer.lr=1e30 sae.beta1=1 sae.eps=0 \
	   transformer.weight_decay=-1 transformer.betas=0.9,1.5 sae.aux_coef=-.inf; do
	key=${bad%%=*}
	run --out "$tmp/bad" --set "$bad" >"$tmp/out" 2>&1; st=$?
	check "--set $bad is a config error (status $st)" test "$st" -eq 1
	check "--set $bad: the error names $key" grep -q "'$key'" "$tmp/out"
	check "--set $bad: nothing was written" test ! -e "$tmp/bad"
done
# ... and from the file: the error names the file and line:column
sed 's/^  lr: 3e-4/  lr: 1e30/' "$src/configs/smoke.yaml" >"$tmp/lr.yaml"
"$bin" run "${small[@]}" --out "$tmp/bad" "$tmp/lr.yaml" >"$tmp/out" 2>&1; st=$?
check "sae.lr: 1e30 in the file is refused (status $st)" test "$st" -eq 1
check "the error names the user's file and line:column" grep -q "lr.yaml:[0-9]*:[0-9]*: 'sae.lr'" "$tmp/out"
check "nothing was written" test ! -e "$tmp/bad"

# stage sections are checked before any job (not after the transformer trained), in the
# user's file; --dry-run checks them too and writes nothing
printf '  bogus_key: 3\n' >>"$tmp/lr.yaml"
sed -i 's/^  lr: 1e30/  lr: 3e-4/' "$tmp/lr.yaml"
"$bin" run "${small[@]}" --out "$tmp/bad" "$tmp/lr.yaml" >"$tmp/out" 2>&1; st=$?
check "an unknown sae key fails before any job (status $st)" test "$st" -eq 1
check "... naming the user's file and the key" grep -q "lr.yaml:.*sae.bogus_key" "$tmp/out"
check "... with no job run" test ! -e "$tmp/bad"
"$bin" run "${small[@]}" --dry-run --out "$tmp/bad" "$tmp/lr.yaml" >"$tmp/out" 2>&1; st=$?
check "--dry-run fails on it too (status $st)" test "$st" -eq 1
run --dry-run --out "$tmp/dry" >"$tmp/out" 2>&1; st=$?
check "--dry-run of a good config succeeds (status $st)" test "$st" -eq 0
check "--dry-run lists the jobs" grep -q "would run sae" "$tmp/out"
check "--dry-run writes nothing" test ! -e "$tmp/dry"
run --dry-run --set sae.k=8 --out "$tmp/dry" >/dev/null 2>&1
run --out "$tmp/dry" >"$tmp/out" 2>&1; st=$?
check "a dry run with other settings does not block the real run (status $st)" test "$st" -eq 0

# a run that diverges (the optimizer made to blow up at a chosen step): the job fails naming
# the step and the tensor, and is not recorded done
HUSAI_FAULT=train_sae_diverge:5 run --out "$tmp/div" >"$tmp/out" 2>&1; st=$?
check "a diverging SAE fails the run (status $st)" test "$st" -eq 1
check "... naming the seed, the step, the loss and the tensor" \
	grep -q "train-sae: smoke seed 42: step [0-9]*: loss is .*(W_enc has [0-9]* non-finite entries" "$tmp/out"
check "... telling what to lower" grep -q "lower sae.lr" "$tmp/out"
check "... and is not recorded done" test ! -e "$tmp/div/jobs/sae.done.json"
check "... nor leaves a final checkpoint" test ! -e "$tmp/div/sae/smoke/sae_seed42.h5"
HUSAI_FAULT=tf_train_diverge:2 run --out "$tmp/divt" >"$tmp/out" 2>&1; st=$?
check "a diverging transformer fails the run (status $st)" test "$st" -eq 1
check "... naming the step and the tensor" \
	grep -q "train-transformer: epoch 1: step [0-9]*: loss is .*(embed.W_E has" "$tmp/out"
check "... and writes no checkpoint" test -z "$(ls "$tmp/divt/transformer" 2>/dev/null)"
check "... and is not recorded done" test ! -e "$tmp/divt/jobs/transformer.done.json"

# a checkpoint holding NaN (as a trainer without these checks wrote it): the smoke checks
# fail, and analyze refuses it naming the file and the dataset
HUSAI_FAULT=train_sae_write_nan:2 run --out "$tmp/nan" >"$tmp/out" 2>&1; st=$?
check "a NaN SAE checkpoint fails the smoke run (status $st)" test "$st" -ne 0
check "... on the finiteness check" grep -q '"pass": false' "$tmp/nan/results.json"
check "... which names the dataset" grep -q 'sae_seed42.h5 is refused: /params' "$tmp/nan/results.json"
(cd "$tmp/nan" && HUSAI_FAULT=train_sae_write_nan:3 "$bin" train-sae --config jobs/sae.yaml \
	--activations activations.h5 --out two --seeds 42,43 >/dev/null 2>&1)
"$bin" analyze --group g="$tmp/nan/two/smoke/sae_seed42.h5,$tmp/nan/two/smoke/sae_seed43.h5" \
	--out "$tmp/nan/an" >"$tmp/out" 2>&1; st=$?
check "analyze refuses a checkpoint with NaN (status $st)" test "$st" -eq 1
check "... naming the file and the dataset" grep -q "sae_seed42.h5:/params/W_dec: .*not finite" "$tmp/out"

# a batch larger than the activation set is a config error naming the key, not "out of memory"
(cd "$tmp/nan" && "$bin" train-sae --config jobs/sae.yaml --activations activations.h5 \
	--out big --seeds 42 --set sae.batch_size=10000000) >"$tmp/out" 2>&1; st=$?
check "a batch larger than the data set is refused (status $st)" test "$st" -eq 1
check "... naming sae.batch_size and the row count" grep -q "'sae.batch_size': a batch of 10000000 rows is larger than the activation set .*(961 rows)" "$tmp/out"
check "... not as out of memory" test -z "$(grep -i 'memory' "$tmp/out")"
# a Matryoshka SAE without prefixes is an error (it would silently be a BatchTopK)
run --dry-run --out "$tmp/m" --set sae.architecture=matryoshka >"$tmp/out" 2>&1; st=$?
check "matryoshka without prefixes is refused (status $st)" test "$st" -eq 1
check "... naming matryoshka.prefixes" grep -q "sae.matryoshka.prefixes" "$tmp/out"
run --dry-run --out "$tmp/m" --set sae.architecture=matryoshka --set sae.matryoshka.prefixes=64,256 >/dev/null 2>&1; st=$?
check "matryoshka with prefixes is accepted (status $st)" test "$st" -eq 0

# a job whose log cannot be written (a full disk: /dev/full) still gets its error to the run's
# stderr (HUSAI_ERR_FD), and the run does not read a device as a log forever
mkdir -p "$tmp/full/logs"; ln -s /dev/full "$tmp/full/logs/sae.log"
HUSAI_FAULT=train_sae_diverge:5 timeout 120 "$bin" run "${small[@]}" --out "$tmp/full" \
	"$src/configs/smoke.yaml" >"$tmp/out" 2>&1; st=$?
check "a job failing on a full log disk fails the run in time (status $st)" test "$st" -eq 1
check "... and its error reaches the run's stderr" grep -q "train-sae: smoke seed 42: step" "$tmp/out"

finish
