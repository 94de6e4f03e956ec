#!/usr/bin/env python3
"""gen_elementary.py — derives every table, constant and polynomial of numeric/elementary.c.

    python3 scripts/gen_elementary.py > numeric/elementary_data.h

Standard library only (decimal, fractions); the output is a pure function of this file.
Every value is computed with 70+ significant digits and rounded once to a double
(float(Decimal) rounds correctly).  Polynomials are minimax (Remez exchange on a dense
Chebyshev-spaced grid, weight as stated per polynomial); after rounding the coefficients to
double, their true error is measured again on a denser grid in exact arithmetic and printed
next to the coefficients (docs/elementary-functions.md explains how each one is used).
"""
import math
import sys
from decimal import Decimal as D, getcontext, localcontext
from fractions import Fraction as Fr

getcontext().prec = 80


# ------------------------------------------------------------------ exact constants --
def _arctan_inv(x, one):
    """arctan(1/x) * one, by the alternating series in integers (error < number of terms)."""
    total, term, k, x2 = 0, one // x, 0, x * x
    while term:
        total += term // (2 * k + 1) if k % 2 == 0 else -(term // (2 * k + 1))
        term //= x2
        k += 1
    return total


def pi_scaled(bits):
    """floor(pi * 2^bits), exact: Machin's formula with 64 guard bits."""
    guard = 64
    one = 1 << (bits + guard)
    p = 4 * (4 * _arctan_inv(5, one) - _arctan_inv(239, one))
    return p >> guard


PI = D(pi_scaled(300)) / D(2 ** 300)
LN2 = D(2).ln()
SQRTPI = PI.sqrt()


def dexp(x):
    return D(x).exp()


def dln(x):
    return D(x).ln()


def dsin(x):
    x = D(x)
    with localcontext() as c:
        c.prec += 20
        s, term, k = D(0), x, 1
        while abs(term) > D(10) ** -(c.prec + 5) or k < 4:
            s += term
            term = -term * x * x / ((k + 1) * (k + 2))
            k += 2
    return +s


def dcos(x):
    x = D(x)
    with localcontext() as c:
        c.prec += 20
        s, term, k = D(0), D(1), 0
        while abs(term) > D(10) ** -(c.prec + 5) or k < 4:
            s += term
            term = -term * x * x / ((k + 1) * (k + 2))
            k += 2
    return +s


def derf(x):
    """erf(x) by its Maclaurin series, with guard digits for the cancellation (x <= 6)."""
    x = D(x)
    with localcontext() as c:
        c.prec += 30
        s, n, xx, p = D(0), 0, x * x, x  # p = (-1)^n x^(2n+1)/n!
        while True:
            t = p / (2 * n + 1)
            s += t
            if abs(t) < D(10) ** -(c.prec + 5) and n > 2 * xx:
                break
            n += 1
            p = -p * xx / n
        r = 2 * s / SQRTPI
    return +r


def erf_taylor(c, nterms=48):
    """Taylor coefficients of erf around c: erf(c + t) = sum a_n t^n (exact to ~1e-70 for
    |t| <= 1/8): erf' = 2/sqrt(pi) exp(-x^2), and h(t) = exp(-2ct - t^2) has
    (n+1) h_{n+1} = -2c h_n - 2 h_{n-1}."""
    c = D(c)
    h = [D(1), -2 * c]
    for n in range(1, nterms):
        h.append((-2 * c * h[n] - 2 * h[n - 1]) / (n + 1))
    k = 2 / SQRTPI * (-c * c).exp()
    return [derf(c)] + [k * h[n] / (n + 1) for n in range(nterms)]


def poly_eval(coef, t):
    s = D(0)
    for a in reversed(coef):
        s = s * t + a
    return s


# ------------------------------------------------------------------ rounding ---------
def rnd(x):
    """Round a Decimal/Fraction to the nearest double."""
    if isinstance(x, Fr):
        return float(x)  # Fraction -> float is correctly rounded
    return float(x)


def rnd_bits(x, bits):
    """Round x > 0 to `bits` significant bits (exact, via Fraction); returns a float."""
    f = Fr(x) if not isinstance(x, D) else Fr(x)
    e = math.floor(math.log2(float(f)))
    while Fr(2) ** e > f:
        e -= 1
    while Fr(2) ** (e + 1) <= f:
        e += 1
    scale = Fr(2) ** (bits - 1 - e)
    m = round(f * scale)
    return float(Fr(m) / scale)


def hexd(x):
    """A double as an exact C hex-float literal."""
    x = float(x)
    if x == 0.0:
        return "-0x0p+0" if math.copysign(1.0, x) < 0 else "0x0p+0"
    return x.hex()


def log2abs(x):
    x = abs(x)
    return -999.0 if x == 0 else math.log2(float(x))


# ------------------------------------------------------------------ Remez -----------
def solve(a, b):
    """Gaussian elimination with partial pivoting, in Decimal."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for cc in range(col, n + 1):
                    m[r][cc] -= f * m[col][cc]
    x = [D(0)] * n
    for r in range(n - 1, -1, -1):
        s = m[r][n] - sum(m[r][cc] * x[cc] for cc in range(r + 1, n))
        x[r] = s / m[r][r]
    return x


def cheb_grid(a, b, m):
    """m+1 points on [a, b], denser near the ends (Chebyshev extrema), as Decimals."""
    a, b = D(a), D(b)
    pts = []
    for k in range(m + 1):
        u = D(repr((1 - math.cos(math.pi * k / m)) / 2))
        pts.append(a + (b - a) * u)
    pts[0], pts[-1] = a, b
    return pts


def remez(f, w, powers, a, b, grid_n=3000, iters=60):
    """Minimise max |w(t) (f(t) - sum_i c_i t^powers[i])| over [a, b] (discrete minimax on
    a dense Chebyshev grid).  f and w are callables on Decimals.  Returns Decimal c_i."""
    n = len(powers)
    grid = cheb_grid(a, b, grid_n)
    fv = [f(t) for t in grid]
    wv = [w(t) for t in grid]
    phi = [[t ** p for p in powers] for t in grid]
    # initial reference: the grid points nearest the Chebyshev extrema of degree n
    ref = sorted(set(round(grid_n * (1 - math.cos(math.pi * j / n)) / 2) for j in range(n + 1)))
    if len(ref) != n + 1:
        raise RuntimeError("grid too coarse")
    best = None
    for _ in range(iters):
        rows = [phi[g] + [D((-1) ** j) / wv[g]] for j, g in enumerate(ref)]
        sol = solve(rows, [fv[g] for g in ref])
        c, E = sol[:n], sol[n]
        err = [wv[g] * (fv[g] - sum(ci * pg for ci, pg in zip(c, phi[g]))) for g in range(len(grid))]
        emax = max(abs(e) for e in err)
        if best is None or emax < best[0]:
            best = (emax, c)
        # local extrema of alternating sign: the largest |err| in every run of one sign
        ext = []
        g = 0
        while g < len(grid):
            s = err[g] >= 0
            h, gbest = g, g
            while h < len(grid) and (err[h] >= 0) == s:
                if abs(err[h]) > abs(err[gbest]):
                    gbest = h
                h += 1
            ext.append(gbest)
            g = h
        while len(ext) > n + 1:
            if len(ext) == n + 2:
                if abs(err[ext[0]]) < abs(err[ext[-1]]):
                    ext.pop(0)
                else:
                    ext.pop()
                continue
            k = min(range(len(ext)), key=lambda i: abs(err[ext[i]]))
            if k == 0 or k == len(ext) - 1:
                ext.pop(k)
            else:
                j = k - 1 if abs(err[ext[k - 1]]) < abs(err[ext[k + 1]]) else k + 1
                for i in sorted((k, j), reverse=True):
                    ext.pop(i)
        if len(ext) < n + 1:
            break
        if abs(E) > 0 and emax / abs(E) - 1 < D("1e-5"):
            return c
        ref = ext
    return best[1]


def measure(f, w, powers, coefs, a, b, m=12000, extra=None):
    """max |w (f - p)| over a dense grid, with the double-rounded coefficients, exactly."""
    worst = D(0)
    for t in cheb_grid(a, b, m) + (extra or []):
        p = sum(D(c) * t ** pw for c, pw in zip(coefs, powers))
        e = abs(w(t) * (f(t) - p))
        if e > worst:
            worst = e
    return worst


def minimax(f, w, powers, a, b, m=12000, **kw):
    c = remez(f, w, powers, a, b, **kw)
    cd = [rnd(x) for x in c]
    err = measure(f, w, powers, cd, a, b, m=m)
    return cd, err


# ------------------------------------------------------------------ output -----------
out = []


def emit(s=""):
    out.append(s)


def emit_array(ctype, name, vals, per_line=3, comment=None):
    if comment:
        emit("/* %s */" % comment)
    emit("static const %s %s[%d] = {" % (ctype, name, len(vals)))
    for i in range(0, len(vals), per_line):
        emit("\t" + " ".join("%s," % v for v in vals[i:i + per_line]))
    emit("};")


def emit_const(name, val, comment=None):
    emit("#define %s %s%s" % (name, hexd(val), ("  /* %s */" % comment) if comment else ""))


def emit_poly(prefix, coefs, first, what, err, kind, step=1):
    emit("/* %s: %s error %s = 2^%.2f */" % (what, kind, "%.3e" % float(err), log2abs(err)))
    for i, c in enumerate(coefs):
        emit_const("%s%d" % (prefix, first + step * i), c)


def sec(title):
    emit()
    emit("/* " + "-" * 64 + " " + title + " */")
    print("gen_elementary: " + title, file=sys.stderr)


def main():
    emit("/* elementary_data.h — GENERATED by scripts/gen_elementary.py; do not edit.")
    emit(" * Tables, constants and minimax coefficients of numeric/elementary.c, each derived with")
    emit(" * 80-digit decimal arithmetic and rounded once to double; the error printed with each")
    emit(" * polynomial is its true error after that rounding (docs/elementary-functions.md). */")
    emit("#ifndef HUSAI_ELEMENTARY_DATA_H")
    emit("#define HUSAI_ELEMENTARY_DATA_H")
    emit()
    emit("#include <stdint.h>")

    # ---- exp: 2^(j/128), ln2/128 split, polynomial for e^r - 1
    sec("exp, expm1, expf, tanhf")
    N = 128
    hi, tail = [], []
    for j in range(N):
        v = (D(j) / N * LN2).exp()
        h = rnd(v)
        hi.append(h)
        tail.append(rnd((v - D(h)) / D(h)))
    emit_const("EXP_INVLN2N", N / LN2, "128/ln2")
    l = LN2 / N
    lhi = rnd_bits(l, 35)  # k*EXP_LN2N_HI is exact for |k| < 2^18 (|x| < 1000)
    emit_const("EXP_LN2N_HI", lhi, "ln2/128 to 35 bits")
    emit_const("EXP_LN2N_LO", rnd(l - D(lhi)), "ln2/128 - EXP_LN2N_HI")
    emit_array("double", "exp_t", [hexd(x) for x in hi], comment="2^(j/128), rounded")
    emit_array("double", "exp_tail", [hexd(x) for x in tail],
               comment="(2^(j/128) - exp_t[j]) / exp_t[j], rounded")
    rmax = LN2 / (2 * N) * D("1.0001")
    f = lambda t: t.exp() - 1 - t
    c, err = minimax(f, lambda t: D(1), [2, 3, 4, 5], -rmax, rmax)
    emit_poly("EXP_C", c, 2, "e^r - 1 - r ~ r^2 (C2 + C3 r + C4 r^2 + C5 r^3), |r| <= ln2/256",
              err, "absolute")
    # relative error of the whole r + r^2 P(r) as an approximation of e^r - 1 (tanhf needs it)
    rel = measure(lambda t: t.exp() - 1, lambda t: 1 / (t.exp() - 1) if t else D(0), [1, 2, 3, 4, 5],
                  [1.0] + c, -rmax, rmax, extra=[D("1e-30"), D("-1e-30")])
    emit("/* ... as e^r - 1 ~ r + r^2 P(r): relative error %.3e = 2^%.2f */" % (float(rel), log2abs(rel)))

    # expm1 near 0: x + x^2/2 + x^3 Q(x)
    a = D(1) / 8
    f = lambda t: t.exp() - 1 - t - t * t / 2
    wrel = lambda t: 1 / (t.exp() - 1) if t else D(0)
    pw = list(range(3, 12))
    c, err = minimax(f, wrel, pw, -a, a)
    # relative error w.r.t. expm1: |x^3 error| / |expm1|
    emit_poly("EXPM1_E", c, 3, "e^x - 1 ~ x + x^2/2 + x^3 (E3 + E4 x + ... ), |x| <= 1/8", err,
              "relative")

    # ---- log (double)
    sec("log, log1p")
    lhi = rnd_bits(LN2, 42)  # k*LN2_HI exact for |k| < 2^11
    emit_const("LN2_HI", lhi, "ln2 to 42 bits")
    emit_const("LN2_LO", rnd(LN2 - D(lhi)), "ln2 - LN2_HI")
    emit_const("LN2_D", rnd(LN2), "ln2 rounded")
    OFF = 0x3FE6000000000000
    emit("#define LOG_OFF 0x%016xULL  /* z in [0.6875, 1.375) */" % OFF)
    import struct

    def u2d(u):
        return struct.unpack("<d", struct.pack("<Q", u))[0]

    invc, logc_hi, logc_lo = [], [], []
    rmax = D(0)
    for i in range(128):
        zlo = D(u2d(OFF + (i << 45)))
        zhi = D(u2d(OFF + ((i + 1) << 45)))
        cc = (zlo + zhi) / 2
        ic = rnd(1 / cc)
        lc = -dln(D(ic))
        h = rnd(lc)
        invc.append(ic)
        logc_hi.append(h)
        logc_lo.append(rnd(lc - D(h)))
        rmax = max(rmax, abs(zlo * D(ic) - 1), abs(zhi * D(ic) - 1))
    emit_array("double", "log_invc", [hexd(x) for x in invc], comment="1/c, c the centre of subinterval i")
    emit_array("double", "log_logc_hi", [hexd(x) for x in logc_hi], comment="-log(log_invc[i]), high part")
    emit_array("double", "log_logc_lo", [hexd(x) for x in logc_lo], comment="... and the rest")
    f = lambda t: dln(1 + t) - t
    c, err = minimax(f, lambda t: D(1), [2, 3, 4, 5, 6], -rmax, rmax)
    emit_poly("LOG_A", c, 2, "log1p(r) - r ~ r^2 (A2 + A3 r + ... + A6 r^4), |r| <= %.5f" % rmax, err,
              "absolute")
    a = D(1) / 16
    f = lambda t: dln(1 + t) - t + t * t / 2
    wrel = lambda t: 1 / dln(1 + t) if t else D(0)
    pw = list(range(3, 14))
    c, err = minimax(f, wrel, pw, -a, a)
    emit_poly("LOG1_B", c, 3, "log1p(x) ~ x - x^2/2 + x^3 (B3 + B4 x + ...), |x| <= 1/16", err,
              "relative")

    # ---- logf
    sec("logf")
    OFFF = 0x3F328000
    emit("#define LOGF_OFF 0x%08xU  /* z in [0.6973, 1.3945), 1.0 at the centre of subinterval 77 */" % OFFF)

    def u2f(u):
        return struct.unpack("<f", struct.pack("<I", u))[0]

    finvc, flogc = [], []
    rmax = D(0)
    for i in range(128):
        zlo = D(u2f(OFFF + (i << 16)))
        zhi = D(u2f(OFFF + ((i + 1) << 16)))
        if zlo <= 1 < zhi:
            ic = 1.0
        else:
            ic = rnd_bits(2 / (zlo + zhi), 29)  # z * invc is exact in double
        finvc.append(ic)
        flogc.append(rnd(-dln(D(ic))))
        rmax = max(rmax, abs(zlo * D(ic) - 1), abs(zhi * D(ic) - 1))
    emit_array("double", "logf_invc", [hexd(x) for x in finvc], comment="1/c to 29 bits (1 for the subinterval of 1.0)")
    emit_array("double", "logf_logc", [hexd(x) for x in flogc], comment="-log(logf_invc[i]), rounded")
    f = lambda t: dln(1 + t) - t + t * t / 2
    wrel = lambda t: 1 / dln(1 + t) if t else D(0)
    c, err = minimax(f, wrel, [3, 4, 5, 6], -rmax, rmax)
    emit_poly("LOGF_B", c, 3, "log1p(r) ~ r - r^2/2 + r^3 (B3 + B4 r + B5 r^2 + B6 r^3), |r| <= %.5f" % rmax,
              err, "relative")

    # ---- erff
    sec("erff")
    DEG = 10
    W = D(1) / 8
    emit("#define ERF_DEG %d" % DEG)
    rows, errs = [], []
    for i in range(32):
        if i == 0:  # [0, 1/8]: t = x, no constant term, so erf(x) keeps its relative accuracy at 0
            tay = erf_taylor(D(0), 60)
            lo, hi_, pw = D("1e-40"), W, list(range(1, DEG + 1))
        else:
            tay = erf_taylor((D(i) + D("0.5")) * W, 40)
            lo, hi_, pw = -W / 2, W / 2, list(range(DEG + 1))
        fi = lambda t, tay=tay: poly_eval(tay, t)
        wi = lambda t, fi=fi: 1 / fi(t)
        c = remez(fi, wi, pw, lo, hi_, grid_n=1000)
        if i == 0:
            c = [D(0)] + c
        c0 = rnd(c[0])
        row = [c0, rnd(c[0] - D(c0))] + [rnd(x) for x in c[1:]]
        err = measure(fi, wi, [0, 0] + list(range(1, DEG + 1)), row, lo, hi_, m=3000)
        rows.append(row)
        errs.append(err)
    emit("/* erf(x) on [i/8, (i+1)/8) ~ c0 + c1 t + ... + c10 t^10, t = x - (i+1/2)/8 (t = x and c0 = 0")
    emit(" * for i = 0); a row is {c0 high, c0 low, c1, ..., c10}.  Relative error after rounding:")
    emit(" * 2^%.2f at worst (the error of each row follows it). */" % max(log2abs(e) for e in errs))
    emit("static const double erf_c[32][ERF_DEG + 2] = {")
    for i, row in enumerate(rows):
        emit("\t{" + ", ".join(hexd(x) for x in row) + "},  /* 2^%.1f */" % log2abs(errs[i]))
    emit("};")

    # ---- sinf / cosf
    sec("sinf, cosf")
    q = PI / 32
    emit_const("TRIG_INVPIO32", 32 / PI, "32/pi")
    p1 = rnd_bits(q, 29)
    p2 = rnd_bits(q - D(p1), 29)
    p3 = rnd(q - D(p1) - D(p2))
    emit_const("TRIG_PIO32_1", p1, "pi/32 to 29 bits")
    emit_const("TRIG_PIO32_2", p2, "the next 29 bits")
    emit_const("TRIG_PIO32_3", p3, "the rest, rounded")
    emit_const("TRIG_PIO32", q, "pi/32 rounded")
    # exact zeros where sin or cos vanishes, so sin x and cos x keep their relative accuracy there
    sin_t = [0.0 if j % 32 == 0 else rnd(dsin(j * q)) for j in range(64)]
    cos_t = [0.0 if j % 32 == 16 else rnd(dcos(j * q)) for j in range(64)]
    emit_array("double", "trig_sin", [hexd(x) for x in sin_t], comment="sin(j pi/32)")
    emit_array("double", "trig_cos", [hexd(x) for x in cos_t], comment="cos(j pi/32)")
    rmax = PI / 64 * D("1.0001")
    f = lambda t: dsin(t) - t
    c, err = minimax(f, lambda t: 1 / dsin(t) if t else D(0), [3, 5, 7], D("1e-40"), rmax)
    emit_poly("SIN_S", c, 3, "sin r ~ r + S3 r^3 + S5 r^5 + S7 r^7, |r| <= pi/64", err, "relative", 2)
    f = lambda t: dcos(t) - 1 + t * t / 2
    c, err = minimax(f, lambda t: 1 / dcos(t), [4, 6, 8], D(0), rmax)
    emit_poly("COS_C", c, 4, "cos r ~ 1 - r^2/2 + C4 r^4 + C6 r^6 + C8 r^8, |r| <= pi/64", err, "relative",
              2)
    # 2/pi in 32-bit words, preceded by one zero word (bit -31 .. 0)
    nb = 32 * 12
    twoopi = (1 << (nb + 1 + nb + 64)) // pi_scaled(nb + 64)  # floor(2^nb * 2/pi)
    words = [0] + [(twoopi >> (32 * (11 - k))) & 0xFFFFFFFF for k in range(12)]
    emit_array("uint32_t", "trig_2opi", ["0x%08xU" % w_ for w_ in words], per_line=6,
               comment="bits of 2/pi: word k >= 1 holds bits 32(k-1)+1 .. 32k after the point")
    emit()
    emit("#endif")
    print("\n".join(out))


if __name__ == "__main__":
    main()
