#!/usr/bin/env bash
# test_sae_stream.sh — train-sae on activation sets larger than memory (train/sae_batches.c,
# docs/reproducibility.md "Training larger than memory"): with sae.shuffle: blocks, a set
# streamed from disk through a small --memory gives the same checkpoint bytes as the same set
# loaded whole (also after a stop and resume mid-epoch, and from a chunked copy of the file);
# a set twice the size of an address-space limit (ulimit -v) trains streamed where loading it
# whole fails; the row shuffle keeps today's bytes and refuses a set that does not fit, saying
# what to do; a memory setting below one batch, a malformed setting and bad rows are refused
# by name with nothing trained.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" sae_stream
cd "$tmp" || exit 1
dsums() { "$bin" inspect --checksums "$1" | grep -v "@" | grep sha256; }
same() { # same DIR1 DIR2 [FILES]: those checkpoints (default: both finals) hold the same datasets
	local f ok=0 a b
	for f in ${3:-sae_seed1.h5 sae_seed2.h5}; do
		a=$(dsums "$1/$f") b=$(dsums "$2/$f")
		[ -n "$a" ] && [ "$a" = "$b" ] || { echo "differs: $1 $2 $f"; ok=1; }
	done
	return $ok
}
"$bin" plant --out p.h5 --set plant.d=16 --set plant.rows=5000 --set plant.features=64 >/dev/null
check "a small planted set" test -s p.h5
cat >blocks.yaml <<'YAML'
sae:
  d_sae: 32
  k: 4
  lr: 3e-3
  batch_size: 256
  epochs: 2
  checkpoint_every: 13
  shuffle: blocks
  shuffle_block: 64
  shuffle_window: 4
YAML
grep -v shuffle_ blocks.yaml | grep -v "shuffle:" >rows.yaml
ts() { "$bin" train-sae --activations "${ACTS:-p.h5}" --seeds 1,2 "$@" >>log 2>&1; }

# (a) streamed == loaded whole
check "blocks, loaded whole" ts --config blocks.yaml --out whole
check "blocks, streamed through 250 KiB" ts --config blocks.yaml --out streamed --memory 250K
check "the streamed run said it streamed" grep -q "streaming the activation set" log
check "streamed checkpoints equal the whole-set ones" same whole streamed
check "streamed periodic and step-0 checkpoints too" same whole streamed \
	"sae_seed1_step0.h5 sae_seed2_step26.h5"
ts --config blocks.yaml --out resumed --memory 250K --stop-after 27
check "a streamed run resumes mid-epoch" ts --config blocks.yaml --out resumed --memory 250K --resume
check "resumed == whole" same whole resumed
check "sae.memory in the config streams too" \
	ts --config blocks.yaml --out cfgmem --set sae.memory=300K
check "sae.memory: same bytes" same whole cfgmem sae_seed1.h5
h() { "$bin" inspect "$1" | grep "@config_hash"; }
check "sae.memory is outside the config hash" test "$(h cfgmem/sae_seed1.h5)" = "$(h whole/sae_seed1.h5)"
check "the block shuffle is another order than rows" ts --config rows.yaml --out rowsdef
check "(the orders differ)" test "$(dsums rowsdef/sae_seed1.h5)" != "$(dsums whole/sae_seed1.h5)"
check "rows with a memory setting the set fits in: today's bytes" \
	ts --config rows.yaml --out rowsfit --memory 64M
check "rows, fitting: same bytes as without a setting" same rowsdef rowsfit sae_seed1.h5

# (b') husai run: sae.memory in a run's config streams every training job, same bytes
cat >run.yaml <<'YAML'
experiment:
  kind: stability
  name: st
  activations: p.h5
  seeds: [1, 2]
  k_values: [4]
  fixed_d_sae: 32
  d_sae_values: []
  fixed_k: 4
sae:
  architecture: topk
  lr: 3e-3
  batch_size: 256
  epochs: 2
  shuffle: blocks
  shuffle_block: 64
  shuffle_window: 4
YAML
rsums() { (cd "$1" && find . -name '*.h5' | sort | while read -r f; do dsums "$f" | sed "s|^|$f |"; done); }
check "husai run, loaded whole" "$bin" run --out runwhole run.yaml
check "husai run with sae.memory" "$bin" run --out runmem --set sae.memory=250K run.yaml
check "its training jobs streamed" grep -q "streaming the activation set" runmem/logs/sae_k_sweep_dsae32_k4_seed1.log
check "husai run: every dataset the same streamed" test "$(rsums runmem)" = "$(rsums runwhole)"
check "(and there are datasets)" test "$(rsums runwhole | wc -l)" -gt 100

# (c) refusals
ts --config rows.yaml --out bad1 --memory 250K
check "rows that do not fit: refused" test ! -e bad1/sae_seed1.h5
check "rows that do not fit: says to use blocks" grep -q "set sae.shuffle: blocks to stream it" log
ts --config blocks.yaml --out bad2 --memory 100K
check "memory below one batch: refused, nothing written" test ! -e bad2/sae_seed1_step0.h5
check "memory below one batch: says what it needs" grep -q "too small to stream this set: one batch of 256 rows" log
ts --config blocks.yaml --out bad3 --memory 4x
check "a malformed memory setting is refused" grep -q "'4x' is not a memory size" log
ts --config rows.yaml --out bad4 --set sae.shuffle_block=64
check "block settings need shuffle: blocks" grep -q "applies to sae.shuffle: blocks" log

py=
for p in python3 /usr/bin/python3; do "$p" -c "import h5py, numpy" 2>/dev/null && { py=$p; break; }; done
if [ -z "$py" ]; then
	echo "SKIP the chunked-copy and bad-row checks: no python3 with h5py"
else
	# the same set stored chunked (as a user's h5py file may be): same training bytes
	"$py" - <<'PY'
import h5py, shutil, numpy as np
shutil.copy("p.h5", "chunked.h5")
with h5py.File("chunked.h5", "r+") as f:
    x = f["/activations"][...]
    attrs = dict(f["/activations"].attrs)
    del f["/activations"]
    d = f.create_dataset("/activations", data=x, chunks=(100, 16))
    for k, v in attrs.items():
        d.attrs[k] = v
shutil.copy("p.h5", "nan.h5")
with h5py.File("nan.h5", "r+") as f:
    f["/activations"][4321, 3] = np.nan
shutil.copy("p.h5", "f64.h5")
with h5py.File("f64.h5", "r+") as f:
    x = f["/activations"][...]
    del f["/activations"]
    f.create_dataset("/activations", data=x.astype("float64"))
PY
	ACTS=chunked.h5
	check "a chunked copy streams" ts --config blocks.yaml --out chunked --memory 250K
	unset ACTS
	check "chunked == whole" same whole chunked sae_seed2.h5
	ACTS=nan.h5 ts --config blocks.yaml --out badnan --memory 250K
	check "a NaN row is named when streamed" grep -q "nan.h5:/activations\[4321\]: non-finite value in row 4321, column 3" log
	check "nothing written for a NaN row" test ! -e badnan/sae_seed1_step0.h5
	ACTS=f64.h5 ts --config blocks.yaml --out badf64 --memory 250K
	check "float64 activations refused when streamed" grep -q "expected float32 of rank 2" log
fi

# (b) twice an address-space limit: streamed trains, whole fails
if ldd "$bin" 2>/dev/null | grep -q -e libasan -e libtsan; then
	echo "SKIP part (b): a sanitizer build cannot run under ulimit -v"
else
	kb=100000 # ~98 MiB of address space; the set is 230 MB
	"$bin" plant --out big.h5 --set plant.d=64 --set plant.rows=820000 --set plant.features=128 \
		--set plant.frequency.l0=2 >/dev/null
	size=$(stat -c %s big.h5)
	check "the big set is over twice the limit ($size bytes)" test "$size" -gt $((2 * kb * 1024))
	cat >big.yaml <<'YAML'
sae:
  d_sae: 16
  k: 2
  lr: 3e-3
  batch_size: 1024
  max_steps: 20
  shuffle: blocks
  shuffle_block: 1024
  shuffle_window: 8
YAML
	(ulimit -v $kb; exec env OMP_NUM_THREADS=2 timeout -k 5 600 "$bin" train-sae --config big.yaml \
		--activations big.h5 --out bigs --seeds 1 --memory 24M) >big.log 2>&1
	check "twice the limit trains streamed (status $?)" test -s bigs/sae_seed1.h5
	(ulimit -v $kb; exec env OMP_NUM_THREADS=2 timeout -k 5 600 "$bin" train-sae --config big.yaml \
		--activations big.h5 --out bigw --seeds 1) >bigw.log 2>&1
	check "loaded whole under the limit it runs out of memory" grep -q "out of memory" bigw.log
fi
finish
