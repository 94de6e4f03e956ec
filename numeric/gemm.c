/*
 * gemm.c — husai's canonical single-precision matrix product (numeric.h: hus_gemm), the
 * driver around the micro-kernels of gemm_kernel_<isa>.c.  Hand-written instead of calling a
 * BLAS because no BLAS promises a reduction order: here every C[i][j] is one fma chain over k
 * in index order, whatever the CPU, path, thread count or blocking (docs/reproducibility.md).
 *
 * GotoBLAS/BLIS loops: for each block of MB rows of op(A) and KC steps of k, the block is
 * packed into panels of MR rows (k-major); for each block of NB columns of op(B) within it, the
 * block is packed into panels of NR columns (k-major); then every MR x NR tile of C is one
 * micro-kernel call, which runs the tile's chains over the KC steps and stores them.  The next
 * block of k resumes from the stored floats: the same chain.  Panels are zero-padded past the
 * edges of the matrices; a padded row or column only feeds tile elements that are never
 * stored, so no real element's chain sees it.  Each operand is packed once per call when op(A)
 * has at most MB rows.  An operand whose memory is already laid out by k is not packed at all
 * for its full panels (op(A) transposed; op(B) not transposed with short rows): the kernel reads
 * it in place, which saves the copy on the small products of SAE training.
 *
 * Threads split C into bands of whole tiles (rows when op(A) is the larger operand, else
 * columns), never k; each thread runs the same loops on its band with its own buffers.
 * Buffers are per thread, grown with aligned_alloc and reused by later calls (freed when the
 * thread exits); if one cannot be had, the band is computed by hus_gemm_ref instead: the same
 * bits, slower.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "gemm_internal.h"

/* Blocking (speed only; the bits never depend on it): a KC x NB block of op(B) stays in L2
 * while MR x KC panels of op(A) are swept across it from L1.  A wide C (N >= WIDE_N) with
 * op(A) packed takes KC_WIDE x NB_WIDE instead: a third of the passes over C, which dominate
 * there (measured on Zen 5: +10-15% on the PWMCC panel and the large SAE encoder). */
#define KC 256
#define NB 512
#define KC_WIDE 768
#define NB_WIDE 192
#define WIDE_N 4096
#define MB 1536
/* Operands already laid out by k are read in place instead of packed: op(A) when transposed
 * (a panel's step is MR adjacent floats; only for MR a multiple of 8: the AVX2 path's 6-float
 * steps straddle cache lines and ran slower in place than packed), op(B) when not and a block
 * of KC of its rows spans at most DIRECT_B_MAX_LD floats per row (so the block stays in L2
 * without conflicts). */
#define DIRECT_B_MAX_LD 512
/* Threads only when the product is worth waking them: flops per thread at least this. */
#define PAR_MIN_FLOPS_PER_THREAD (4.0 * 1024 * 1024)

/* ------------------------------------------------------------ per-thread buffers ---- */

static once_flag buf_once = ONCE_FLAG_INIT;
static tss_t buf_key; /* frees a thread's buffer when the thread exits */
static int buf_key_ok;
static _Thread_local float *buf_ptr;
static _Thread_local size_t buf_cap; /* floats */

static void buf_key_init(void) { buf_key_ok = tss_create(&buf_key, free) == thrd_success; }

static float *thread_buffer(size_t nfloats)
{
	if (nfloats <= buf_cap)
		return buf_ptr;
	call_once(&buf_once, buf_key_init);
	size_t bytes = (nfloats * sizeof(float) + 4095) & ~(size_t)4095;
	float *p = aligned_alloc(64, bytes);
	if (!p)
		return NULL;
	free(buf_ptr);
	buf_ptr = p;
	buf_cap = bytes / sizeof(float);
	if (buf_key_ok)
		tss_set(buf_key, p);
	return p;
}

/* ------------------------------------------------------------ packing -------------- */

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* the portable pack_t (gemm_internal.h) */
static void pack_t_portable(float *dst, size_t width, const float *src, size_t lds, size_t rows,
                            size_t kc)
{
	for (size_t r = 0; r < rows; r++) {
		const float *s = src + r * lds;
		for (size_t k = 0; k < kc; k++)
			dst[k * width + r] = s[k];
	}
	for (size_t r = rows; r < width; r++)
		for (size_t k = 0; k < kc; k++)
			dst[k * width + r] = 0.0f;
}

/* the portable pack_n (gemm_internal.h) */
static void pack_n_portable(float *dst, size_t width, const float *src, size_t lds, size_t cols,
                            size_t kc)
{
	for (size_t k = 0; k < kc; k++) {
		memcpy(dst + k * width, src + k * lds, cols * sizeof(float));
		for (size_t c = cols; c < width; c++)
			dst[k * width + c] = 0.0f;
	}
}

/* n rows of op(A) or columns of op(B) over kc steps of k, into panels of `width`: panel p
 * holds, for step k, element p*width + r at [k*width + r], zero past n.  X points at element
 * (0, k0); in memory successive steps of k are either ld apart (kstride: op(A) transposed,
 * op(B) not, so a panel's step is a copy) or adjacent (a panel is a transposition). */
static void pack_panels(const struct hus_gemm_kernel *kr, int kstride, const float *X, size_t ld,
                        size_t n, size_t kc, size_t width, float *dst)
{
	const hus_gemm_pack_t_fn pack_t = kr->pack_t ? kr->pack_t : pack_t_portable;
	const hus_gemm_pack_n_fn pack_n = kr->pack_n ? kr->pack_n : pack_n_portable;
	for (size_t p = 0; p < n; p += width, dst += kc * width) {
		const size_t w = min_sz(width, n - p);
		if (kstride)
			pack_n(dst, width, X + p, ld, w, kc);
		else
			pack_t(dst, width, X + p * ld, ld, w, kc);
	}
}

/* ------------------------------------------------------------ the loops ------------ */

/* n split into blocks of at most cap, as even as possible, each a multiple of unit (but the
 * last): the block size. */
static size_t block_size(size_t n, size_t cap, size_t unit)
{
	size_t nblk = (n + cap - 1) / cap;
	size_t b = (n + nblk - 1) / nblk;
	return (b + unit - 1) / unit * unit;
}

static int beta_init(float beta)
{
	return beta == 0.0f ? HUS_INIT_ZERO : beta == 1.0f ? HUS_INIT_LOAD : HUS_INIT_SCALE;
}

/* One thread's part: C (M x N) from op(A) (M x K) and op(B) (K x N), K > 0.  A points at
 * op(A)[0][0], B at op(B)[0][0].  Returns -1 (nothing written) if its buffer cannot be had. */
static int gemm_serial(const struct hus_gemm_kernel *kr, int ta, int tb, size_t M, size_t N,
                       size_t K, const float *A, size_t lda, const float *B, size_t ldb,
                       float beta, float *C, size_t ldc)
{
	const size_t mr = kr->mr, nr = kr->nr;
	const int wide = N >= WIDE_N && !ta;
	const size_t mb_max = block_size(M, MB, mr), kc_max = block_size(K, wide ? KC_WIDE : KC, 1),
	             nb_max = block_size(N, wide ? NB_WIDE : NB, nr);
	const size_t a_floats = (mb_max + mr - 1) / mr * mr * kc_max;
	float *buf = thread_buffer(a_floats + (nb_max + nr - 1) / nr * nr * kc_max + HUS_PACK_SLACK);
	if (!buf)
		return -1;
	float *Ap = buf, *Bp = buf + a_floats;
	const int init0 = beta_init(beta);
	const int direct_a = ta && mr % 8 == 0, direct_b = !tb && ldb <= DIRECT_B_MAX_LD;
	for (size_t i0 = 0; i0 < M; i0 += mb_max) {
		const size_t mb = min_sz(mb_max, M - i0);
		/* full panels of an operand already laid out by k (op(A) transposed, op(B) not) may
		 * be read in place; the rest is packed */
		const size_t a_in = direct_a ? mb / mr * mr : 0;
		for (size_t k0 = 0; k0 < K; k0 += kc_max) {
			const size_t kc = min_sz(kc_max, K - k0);
			const int init = k0 == 0 ? init0 : HUS_INIT_LOAD;
			const float *Ak = ta ? A + k0 * lda + i0 : A + i0 * lda + k0;
			if (a_in < mb)
				pack_panels(kr, ta, ta ? Ak + a_in : Ak + a_in * lda, lda, mb - a_in, kc, mr,
				            Ap + a_in * kc);
			for (size_t j0 = 0; j0 < N; j0 += nb_max) {
				const size_t nb = min_sz(nb_max, N - j0);
				const size_t b_in = direct_b ? nb / nr * nr : 0;
				const float *Bk = tb ? B + j0 * ldb + k0 : B + k0 * ldb + j0;
				if (b_in < nb)
					pack_panels(kr, !tb, tb ? Bk + b_in * ldb : Bk + b_in, ldb, nb - b_in, kc,
					            nr, Bp + b_in * kc);
				for (size_t ir = 0; ir < mb; ir += mr) {
					const float *a = ir < a_in ? Ak + ir : Ap + ir * kc;
					const size_t a_cs = ir < a_in ? lda : mr, rows = min_sz(mr, mb - ir);
					float *c = C + (i0 + ir) * ldc + j0;
					for (size_t jr = 0; jr < nb; jr += nr) {
						const float *b = jr < b_in ? Bk + jr : Bp + jr * kc;
						kr->tile(kc, a, a_cs, b, jr < b_in ? ldb : nr, c + jr, ldc, rows,
						         min_sz(nr, nb - jr), init, beta);
					}
				}
			}
		}
	}
	return 0;
}

/* K == 0: every chain is its start value */
static void gemm_beta_only(size_t M, size_t N, float beta, float *C, size_t ldc)
{
	if (beta == 1.0f)
		return;
	for (size_t i = 0; i < M; i++)
		for (size_t j = 0; j < N; j++)
			C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/* Rows [i0, i1) and columns [j0, j1) of C on this thread; hus_gemm_ref if no buffer. */
static void gemm_band(const struct hus_gemm_kernel *kr, int ta, int tb, size_t i0, size_t i1,
                      size_t j0, size_t j1, size_t K, const float *A, size_t lda,
                      const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
	if (i0 >= i1 || j0 >= j1)
		return;
	const float *Ab = ta ? A + i0 : A + i0 * lda, *Bb = tb ? B + j0 * ldb : B + j0;
	float *Cb = C + i0 * ldc + j0;
	if (gemm_serial(kr, ta, tb, i1 - i0, j1 - j0, K, Ab, lda, Bb, ldb, beta, Cb, ldc))
		hus_gemm_ref(ta, tb, i1 - i0, j1 - j0, K, Ab, lda, Bb, ldb, beta, Cb, ldc);
}

void hus_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
	if (M == 0 || N == 0)
		return;
	if (K == 0) {
		gemm_beta_only(M, N, beta, C, ldc);
		return;
	}
	const struct hus_gemm_kernel *kr = hus_gemm_kernel_for(hus_isa_current());
	const double flops = 2.0 * (double)M * (double)N * (double)K;
	int nt = 1;
	if (!omp_in_parallel() && flops >= 2 * PAR_MIN_FLOPS_PER_THREAD) {
		nt = omp_get_max_threads();
		while (nt > 1 && flops / nt < PAR_MIN_FLOPS_PER_THREAD)
			nt--;
	}
	/* Split the dimension whose operand is larger, so the smaller one is what every thread
	 * packs again; in whole tiles, so every band but the last runs full tiles. */
	const size_t mu = (M + kr->mr - 1) / kr->mr, nu = (N + kr->nr - 1) / kr->nr;
	int by_rows = M >= N ? mu >= 2 : nu < 2;
	const size_t units = by_rows ? mu : nu;
	if ((size_t)nt > units)
		nt = (int)units;
	if (nt <= 1) {
		gemm_band(kr, trans_a, trans_b, 0, M, 0, N, K, A, lda, B, ldb, beta, C, ldc);
		return;
	}
#pragma omp parallel num_threads(nt)
	{
		const size_t t = (size_t)omp_get_thread_num(), n = (size_t)omp_get_num_threads();
		const size_t u0 = units * t / n, u1 = units * (t + 1) / n;
		if (by_rows)
			gemm_band(kr, trans_a, trans_b, u0 * kr->mr, min_sz(u1 * kr->mr, M), 0, N, K, A,
			          lda, B, ldb, beta, C, ldc);
		else
			gemm_band(kr, trans_a, trans_b, 0, M, u0 * kr->nr, min_sz(u1 * kr->nr, N), K, A,
			          lda, B, ldb, beta, C, ldc);
	}
}
