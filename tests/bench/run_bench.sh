#!/usr/bin/env bash
# run_bench.sh <husai_bench> [case...] — husai's benchmark cases against the PyTorch peer
# (torch_peer.py from the shared bench folder beside the checkout, when /usr/bin/python3 has
# torch), interleaved case by case and round by round (husai, torch, husai, torch …) so a
# load change on a shared machine hits both sides of a ratio alike.  Prints one line per
# case: `case  husai  torch  ratio` (ratio > 1: husai is faster; medians over the rounds),
# the OpenBLAS sgemm ceiling measured in this same run, and every dense path's fraction of
# that ceiling, computed here from the figures printed here.
#   BENCH_ROUNDS=N (default 3) rounds per case.
#   BENCH_BASELINE=PATH  another build's husai_bench (e.g. an older commit's), run in the same
#                        rounds (husai, baseline, torch, …) and shown as a `before` column with
#                        its own ratio against the peer, so before/after share one machine state.
set -euo pipefail
# libgomp threads spin by default; husai itself runs passive (husai.c), so the bench does too
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bench=${1:?usage: run_bench.sh <husai_bench> [case...]}; shift
here=$(cd "$(dirname "$0")" && pwd)
peer="$here/../../../shared/bench/torch_peer.py"
rounds=${BENCH_ROUNDS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A peer_case=([transformer_b512]=transformer [transformer_b2048]=transformer_b2048
	[sae_small]=sae_small [sae_large]=sae_large [pwmcc_small]=pwmcc_small [pwmcc_large]=pwmcc_large)
have_peer=0
if [ -f "$peer" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	have_peer=1
else
	echo "husai: torch peer unavailable (scripts/install-deps.sh --bench); ratios omitted" >&2
fi
# the case list: the arguments, or every case the bench knows
if [ $# -gt 0 ]; then cases=("$@"); else mapfile -t cases < <("$bench" --list); fi
: >"$out/husai.jsonl"; : >"$out/torch.jsonl"; : >"$out/before.jsonl"
baseline=${BENCH_BASELINE:-}
for c in "${cases[@]}"; do
	for r in $(seq 1 "$rounds"); do
		echo "husai: $c round $r/$rounds" >&2
		"$bench" "$c" >>"$out/husai.jsonl"
		if [ -n "$baseline" ]; then
			# an older build may not know a newer case: it is then left out of the before column
			"$baseline" "$c" >>"$out/before.jsonl" 2>/dev/null || true
		fi
		if [ "$have_peer" = 1 ] && [ -n "${peer_case[$c]:-}" ]; then
			/usr/bin/python3 "$peer" "${peer_case[$c]}" | sed "s/^{/{\"husai_case\": \"$c\", /" >>"$out/torch.jsonl"
		elif [[ "$c" == analyze_* ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
			# the project's own peer for the whole-analysis cases, at husai's 2 threads
			PEER_THREADS=2 /usr/bin/python3 "$here/torch_peer_analyze.py" "${c#analyze_}" |
				sed "s/^{/{\"husai_case\": \"$c\", /" >>"$out/torch.jsonl"
		fi
	done
done
/usr/bin/python3 - "$out/husai.jsonl" "$out/torch.jsonl" "$out/before.jsonl" <<'PY'
import json, statistics, sys
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
husai, peer, before = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
UNITS = ("steps_per_s", "seconds", "gflops")
def unit_of(r):
    return next(k for k in UNITS if k in r)
def by_case(records, key="case"):
    # the records of each case, cases in the order first seen
    groups = {}
    for r in records:
        groups.setdefault(r[key], []).append(r)
    return groups
runs, peers, prev = by_case(husai), by_case(peer, "husai_case"), by_case(before)
order = list(runs)
med = lambda xs: statistics.median(xs) if xs else None
# the sgemm ceiling of this run: the best median of the OpenBLAS cases run here
ceil = {}
for c in order:
    rs = [r for r in runs[c] if not r.get("skipped")]
    if c.startswith("sgemm") and rs:
        ceil[c] = med([r["gflops"] for r in rs])
ceiling = max(ceil.values()) if ceil else None
def speed_ratio(unit, a, b):
    return (a / b) if unit != "seconds" else (b / a)
bcols = f" {'before':>11} {'ratio':>7}" if before else ""
print(f"{'case':<22} {'husai':>11} {'torch':>11} {'ratio':>7}{bcols}  unit; notes (medians of {len(runs[order[0]]) if order else 0} rounds)")
for c in order:
    rs = [r for r in runs[c] if not r.get("skipped")]
    if not rs:
        print(f"{c:<22} {'-':>11} {'-':>11} {'-':>7}  skipped: {runs[c][0].get('note','')}")
        continue
    unit = unit_of(rs[0])
    v = med([r[unit] for r in rs])
    ps = [p[unit] for p in peers.get(c, []) if unit in p]
    pv = med(ps)
    ratio = f"{speed_ratio(unit, v, pv):.2f}x" if pv else "-"
    bcol = ""
    if before:
        bv = med([b[unit] for b in prev.get(c, []) if not b.get("skipped") and unit in b])
        bvs = f"{bv:.4g}" if bv else "-"
        bratio = f"{speed_ratio(unit, bv, pv):.2f}x" if bv and pv else "-"
        bcol = f" {bvs:>11} {bratio:>7}"
    note = rs[0].get("note", "")
    g = med([r["dense_gflops"] for r in rs if r.get("dense_gflops")])
    if g and ceiling:
        note += f"; dense products {g:.1f} GFLOP/s = {g / ceiling:.2f} of the sgemm ceiling"
    rss = max(r.get("peak_rss_mb", 0) for r in rs)
    if rss:
        note += f"; peak RSS {rss:.0f} MB"
    pvs = f"{pv:.4g}" if pv else "-"
    print(f"{c:<22} {v:>11.4g} {pvs:>11} {ratio:>7}{bcol}  {unit}; {note}")
if ceiling:
    print(f"sgemm ceiling {ceiling:.1f} GFLOP/s (OpenBLAS, best of " +
          ", ".join(f"{k} {v:.1f}" for k, v in ceil.items()) + ", this run)")
PY
