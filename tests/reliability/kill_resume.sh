#!/usr/bin/env bash
# kill_resume.sh <husai> [trials] — crash consistency of the trainers (issue 11): start
# `husai train-transformer` or a multi-seed `husai train-sae`, SIGKILL it at a random moment
# (checkpoint writes included: checkpoints are written every epoch), resume from what is on
# disk, and compare every dataset of the final checkpoints with an uninterrupted run.  Also
# checks that no file under a final name is ever unreadable.  Prints one line per trial and a
# summary; exits non-zero if any trial differs.
set -u
bin=${1:?usage: kill_resume.sh <husai> [trials]}
trials=${2:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HUSAI_QUIET=1
cat >"$tmp/tf.yaml" <<'Y'
data:
  p: 31
transformer:
  batch_size: 64
  epochs: 8
  checkpoint_every: 1
Y
cat >"$tmp/sae.yaml" <<'Y'
sae:
  architecture: topk
  d_sae: 256
  k: 16
  batch_size: 128
  epochs: 12
  checkpoint_every: 8
Y
digest() { for f in "$@"; do "$bin" inspect --checksums "$f" | grep -v "@" | grep sha256; done; }
"$bin" train-transformer --out "$tmp/ref_tf" "$tmp/tf.yaml" >/dev/null 2>&1 || exit 1
"$bin" extract --out "$tmp/acts.h5" "$tmp/ref_tf/transformer_final.h5" >/dev/null 2>&1 || exit 1
"$bin" train-sae --config "$tmp/sae.yaml" --activations "$tmp/acts.h5" --out "$tmp/ref_sae" --seeds 1,2,3 >/dev/null 2>&1 || exit 1
digest "$tmp/ref_tf/transformer_final.h5" >"$tmp/ref_tf.sums"
digest "$tmp/ref_sae"/sae_seed{1,2,3}.h5 >"$tmp/ref_sae.sums"
t0=$(date +%s.%N); "$bin" train-transformer --out "$tmp/time_tf" "$tmp/tf.yaml" >/dev/null 2>&1
tf_secs=$(echo "$(date +%s.%N) - $t0" | bc)
t0=$(date +%s.%N); "$bin" train-sae --config "$tmp/sae.yaml" --activations "$tmp/acts.h5" --out "$tmp/time_sae" --seeds 1,2,3 >/dev/null 2>&1
sae_secs=$(echo "$(date +%s.%N) - $t0" | bc)
same=0; differ=0; kills=0
for i in $(seq 1 "$trials"); do
	kind=$([ $((i % 2)) -eq 1 ] && echo tf || echo sae)
	d="$tmp/trial_$i"
	secs=$([ "$kind" = tf ] && echo "$tf_secs" || echo "$sae_secs")
	delay=$(awk -v s="$secs" -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.05 + (r / 32767) * s * 0.9 }')
	if [ "$kind" = tf ]; then
		setsid "$bin" train-transformer --out "$d" "$tmp/tf.yaml" >/dev/null 2>&1 &
	else
		setsid "$bin" train-sae --config "$tmp/sae.yaml" --activations "$tmp/acts.h5" --out "$d" --seeds 1,2,3 >/dev/null 2>&1 &
	fi
	pid=$!
	sleep "$delay"
	kill -9 -- "-$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
	# nothing under a final name may be unreadable
	bad=0
	for f in $(find "$d" -name '*.h5' 2>/dev/null); do "$bin" inspect "$f" >/dev/null 2>&1 || bad=1; done
	if [ "$kind" = tf ]; then
		last=$(ls -t "$d"/transformer_epoch_*.h5 2>/dev/null | head -1)
		if [ -n "$last" ]; then "$bin" train-transformer --resume "$last" >/dev/null 2>&1
		else rm -rf "$d"; "$bin" train-transformer --out "$d" "$tmp/tf.yaml" >/dev/null 2>&1; fi
		digest "$d/transformer_final.h5" >"$d.sums" 2>/dev/null; ref="$tmp/ref_tf.sums"
	else
		"$bin" train-sae --config "$tmp/sae.yaml" --activations "$tmp/acts.h5" --out "$d" --seeds 1,2,3 --resume >/dev/null 2>&1
		digest "$d"/sae_seed{1,2,3}.h5 >"$d.sums" 2>/dev/null; ref="$tmp/ref_sae.sums"
	fi
	if [ "$bad" -eq 0 ] && cmp -s "$ref" "$d.sums"; then
		same=$((same + 1)); echo "trial $i $kind kill at ${delay}s: identical"
	else
		differ=$((differ + 1)); echo "trial $i $kind kill at ${delay}s: DIFFERENT (unreadable final file: $bad)"
	fi
done
echo "kill-and-resume: $trials trials ($kills killed while running), $same identical, $differ different"
[ "$differ" -eq 0 ]
