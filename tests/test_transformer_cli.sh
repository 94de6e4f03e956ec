#!/bin/bash
# test_transformer_cli.sh — `husai train-transformer` and `husai extract` end to end: help and
# usage statuses, an interrupted run (--max-steps and a real SIGINT) exits 3 and resumes,
# bad configs and bad extraction choices are named errors with no file left behind.
set -u
H=${HUSAI_BIN:?}
T=${TEST_TMP:?}/cli
rm -rf "$T"; mkdir -p "$T"
fail() { echo "FAIL: $*"; exit 1; }

cat > "$T/tiny.yaml" <<'Y'
data:
  p: 11
  train_fraction: 0.9
  split_seed: 42
transformer:
  n_layers: 2
  d_model: 16
  n_heads: 2
  d_mlp: 32
  batch_size: 16
  epochs: 4
  checkpoint_every: 2
Y

"$H" train-transformer --help | grep -q '^usage: husai train-transformer' || fail "help"
"$H" extract --help | grep -q '^usage: husai extract' || fail "extract help"
"$H" train-transformer 2>/dev/null; [ $? -eq 2 ] || fail "missing config should be status 2"
"$H" extract --bogus 2>/dev/null; [ $? -eq 2 ] || fail "unknown option should be status 2"

# interrupted after 10 steps: status 3, a checkpoint, and how to resume
"$H" train-transformer --out "$T/run" --max-steps 10 "$T/tiny.yaml" 2>"$T/err"; st=$?
[ $st -eq 3 ] || fail "interrupted run: status $st"
grep -q -- '--resume' "$T/err" || fail "no resume hint: $(cat "$T/err")"
[ -f "$T/run/transformer_interrupt.h5" ] || fail "no interrupt checkpoint"
"$H" train-transformer --resume "$T/run/transformer_interrupt.h5" >"$T/out" || fail "resume failed"
grep -q 'epoch 4' "$T/out" || fail "resumed run did not finish: $(cat "$T/out")"
for f in transformer_final.h5 transformer_best.h5 transformer_epoch_2.h5 transformer_epoch_4.h5; do
  [ -f "$T/run/$f" ] || fail "missing $f"
done
"$H" inspect "$T/run/transformer_final.h5" | grep -q 'answer_position = "equals"' || fail "inspect"
"$H" inspect "$T/run/transformer_final.h5" | grep -q '/params/blocks.0.attn.W_Q *float32 *\[2, 16, 8\]' || fail "W_Q shape"

# a real SIGINT: finish the step, save, exit 3
"$H" train-transformer --out "$T/sig" --set transformer.epochs=1000000 "$T/tiny.yaml" 2>"$T/sigerr" &
pid=$!
for i in $(seq 50); do [ -f "$T/sig/transformer_best.h5" ] && break; sleep 0.2; done
kill -INT $pid; wait $pid; st=$?
[ $st -eq 3 ] || fail "SIGINT: status $st ($(cat "$T/sigerr"))"
[ -f "$T/sig/transformer_interrupt.h5" ] || fail "SIGINT: no checkpoint"
[ ! -f "$T/sig/transformer_final.h5" ] || fail "SIGINT: final written"

# SIGTERM behaves the same
"$H" train-transformer --out "$T/term" --set transformer.epochs=1000000 "$T/tiny.yaml" 2>/dev/null &
pid=$!
for i in $(seq 50); do [ -f "$T/term/transformer_best.h5" ] && break; sleep 0.2; done
kill -TERM $pid; wait $pid; st=$?
[ $st -eq 3 ] || fail "SIGTERM: status $st"
[ -f "$T/term/transformer_interrupt.h5" ] || fail "SIGTERM: no checkpoint"

# bad configs: named error, status 1, nothing written
printf 'transformer:\n  d_model: 10\n  n_heads: 4\n' > "$T/bad.yaml"
"$H" train-transformer --out "$T/bad" "$T/bad.yaml" 2>"$T/err"; st=$?
[ $st -eq 1 ] || fail "bad heads: status $st"
grep -q 'n_heads' "$T/err" || fail "bad heads message: $(cat "$T/err")"
[ ! -e "$T/bad" ] || fail "bad config left files"
printf 'data:\n  p: 1\n' > "$T/bad2.yaml"
"$H" train-transformer --out "$T/bad" "$T/bad2.yaml" 2>"$T/err"; [ $? -eq 1 ] || fail "p=1 accepted"
grep -q 'data.p' "$T/err" || fail "p message: $(cat "$T/err")"
printf 'transformer:\n  d_modle: 16\n' > "$T/bad3.yaml"
"$H" train-transformer --out "$T/bad" "$T/bad3.yaml" 2>"$T/err"; [ $? -eq 1 ] || fail "unknown key accepted"

# extraction
CK="$T/run/transformer_final.h5"
"$H" extract --out "$T/a.h5" --layer 1 --position all "$CK" >/dev/null || fail "extract"
"$H" inspect "$T/a.h5" | grep -q '/activations *float32 *\[847, 16\]' || fail "activation shape"
"$H" extract --out "$T/b.h5" --layer 2 "$CK" 2>"$T/err"; [ $? -eq 1 ] || fail "layer 2 accepted"
grep -q 'out of range' "$T/err" || fail "layer message: $(cat "$T/err")"
"$H" extract --out "$T/b.h5" --hook resid_final "$CK" 2>"$T/err"; [ $? -eq 1 ] || fail "bad hook accepted"
grep -q "unknown hook 'resid_final'" "$T/err" || fail "hook message"
"$H" extract --out "$T/b.h5" --position last "$CK" 2>"$T/err"; [ $? -eq 1 ] || fail "bad position accepted"
"$H" extract --out "$T/b.h5" "$T/a.h5" 2>"$T/err"; [ $? -eq 1 ] || fail "activation set accepted as checkpoint"
grep -q 'husai.transformer_checkpoint' "$T/err" || fail "format message: $(cat "$T/err")"
printf 'not hdf5' > "$T/junk.h5"
"$H" extract --out "$T/b.h5" "$T/junk.h5" 2>/dev/null; [ $? -eq 1 ] || fail "junk accepted"
ls "$T"/b.h5* 2>/dev/null && fail "failed extraction left a file"
echo ok
