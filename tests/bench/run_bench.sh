#!/usr/bin/env bash
# run_bench.sh <husai_bench> [case...] — run husai's benchmark cases and, in the same run on
# the same machine, the PyTorch peer (shared/bench/torch_peer.py, when /usr/bin/python3 has
# torch); print one line per case: `case  husai_value  torch_value  ratio` (ratio > 1 means
# husai is faster), plus the sgemm peak each hot path can be compared with.
set -euo pipefail
# libgomp threads spin by default; husai itself runs passive (husai.c), so the bench does too
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bench=${1:?usage: run_bench.sh <husai_bench> [case...]}; shift
here=$(cd "$(dirname "$0")" && pwd)
peer="$here/../../../shared/bench/torch_peer.py"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "husai: running C cases ${*:-(all)}" >&2
"$bench" "$@" >"$out/husai.jsonl"
declare -A peer_case=([transformer_b512]=transformer [transformer_b2048]=transformer_b2048
	[sae_small]=sae_small [sae_large]=sae_large [pwmcc_small]=pwmcc_small [pwmcc_large]=pwmcc_large)
if [ -f "$peer" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	wanted=()
	while read -r c; do if [ -n "${peer_case[$c]:-}" ]; then wanted+=("${peer_case[$c]}"); fi; done \
		< <(/usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["case"]) for l in open(sys.argv[1])]' "$out/husai.jsonl")
	if [ ${#wanted[@]} -gt 0 ]; then
		echo "husai: running torch peer ${wanted[*]}" >&2
		/usr/bin/python3 "$peer" "${wanted[@]}" >"$out/torch.jsonl"
	fi
else
	echo "husai: torch peer unavailable (apt-get install python3-torch); ratios omitted" >&2
fi
touch "$out/torch.jsonl"
/usr/bin/python3 - "$out/husai.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
husai = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peer = {}
for l in open(sys.argv[2]):
    if l.strip():
        r = json.loads(l)
        peer[r["case"]] = r
alias = {"transformer_b512": "transformer_b512", "transformer_b2048": "transformer_b2048",
         "sae_small": "sae_topk_d128_m1024_k32_b2048", "sae_large": "sae_topk_d512_m16384_k64_b4096",
         "pwmcc_small": "pwmcc_d128_m1024_s5", "pwmcc_large": "pwmcc_d512_m16384_s3"}
peak = max([r.get("gflops", 0) for r in husai if r["case"].startswith("sgemm")] or [0])
print(f"{'case':<20} {'husai':>14} {'torch':>14} {'ratio':>8}  unit / notes")
for r in husai:
    c = r["case"]
    if r.get("skipped"):
        print(f"{c:<20} {'-':>14} {'-':>14} {'-':>8}  skipped: {r.get('note','')}")
        continue
    unit = next(k for k in ("steps_per_s", "seconds", "gflops") if k in r)
    v = r[unit]
    p = peer.get(alias.get(c, ""), {})
    pv = p.get(unit)
    ratio = "-"
    if pv:
        ratio = f"{(v / pv) if unit != 'seconds' else (pv / v):.2f}x"
    note = r.get("note", "")
    if r.get("peak_rss_mb"):
        note += f"; peak RSS {r['peak_rss_mb']:.0f} MB"
    pvs = f"{pv:.4g}" if pv else "-"
    print(f"{c:<20} {v:>14.4g} {pvs:>14} {ratio:>8}  {unit}; {note}")
if peak:
    print(f"sgemm_peak {peak:.1f} GFLOP/s (best of the sgemm cases, this run)")
PY
