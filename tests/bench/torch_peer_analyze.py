#!/usr/bin/python3
"""Torch peer of husai_bench's analyze_768x4096 / analyze_768x16384 cases (bench_analyze.c).

The dense work `husai analyze` does for 3 seeds with the R1 and R2 controls, written the way
the upstream Python pipeline computes PWMCC: unit-normalise the decoder columns, form the
full |A^T B| and take its row and column maxima.  The products are those the analysis forms:
3 trained pairs, 3 R1 pairs, 3 R2 pairs; each trained pair's product also gives the
matching's candidates (the 32 largest |cos| per row, torch.topk on the same |A^T B|; husai folds
them into the same pass), 9 products of 2*d*m^2 FLOP.  The seed-level permutation test adds no product at 3 seeds
(3 + 3 models cannot reach p < 0.05, so husai does not run it: docs/formulas.md §8.8).
Decoders are random unit-norm
columns (the bench's are too; the values differ, the work does not).  Prints one JSON line.
Run with the Debian python3-torch at the same thread count as husai:
  PEER_THREADS=2 /usr/bin/python3 torch_peer_analyze.py [768x16384]
"""
import json, os, sys, time
import torch


def unit(d, m, g):
    W = torch.randn(d, m, generator=g)
    return W / W.norm(dim=0, keepdim=True).clamp_min(1e-12)


def pwmcc(A, B, candidates=False):
    C = (A.T @ B).abs()
    if candidates:
        C.topk(32, dim=1)
    return (C.max(dim=1).values.mean() + C.max(dim=0).values.mean()).item() / 2


def main():
    shape = sys.argv[1] if len(sys.argv) > 1 else "768x16384"
    d, m = (int(x) for x in shape.split("x"))
    threads = int(os.environ.get("PEER_THREADS", "2"))
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    sets = [[unit(d, m, g) for _ in range(3)] for _ in range(3)]  # trained, R1, R2
    t0 = time.perf_counter()
    n = 0
    for k, s in enumerate(sets):  # within-set pairs; the trained ones with their candidates
        for i in range(3):
            for j in range(i + 1, 3):
                pwmcc(s[i], s[j], candidates=k == 0); n += 1
    dt = time.perf_counter() - t0
    flops = 2.0 * d * m * m * n
    print(json.dumps({"case": f"analyze_{shape}", "seconds": dt, "products": n,
                      "gflops": flops / dt / 1e9, "threads": threads,
                      "note": "bare products, maxima and top-32 candidates only (no assignment, subspace, I/O)"}))


if __name__ == "__main__":
    main()
