/*
 * numeric.h — husai's deterministic numeric core: the one place where every number that
 * reaches an artifact is computed in an order husai fixes itself (docs/reproducibility.md).
 *
 * Contract: for the same inputs every function here returns the same bits on every x86-64
 * (and aarch64) CPU, under any thread count, any blocking of its operands, any instruction-set
 * path (HUSAI_ISA) and any build of husai with the project's flags (-ffp-contract=off).  No
 * function here calls a BLAS, a libm transcendental or anything whose rounding is decided by
 * a library husai does not control; each says how it fixes its order.
 *
 * This stage depends on nothing else of husai (it is below formats/): errors are plain ints
 * (0 success, -1 bad argument, -3 out of memory, the values of HUS_EINPUT / HUS_ENOMEM).
 */
#ifndef HUSAI_NUMERIC_H
#define HUSAI_NUMERIC_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- instruction sets -- */

/* The micro-kernel paths of the matrix product.  Every path gives the same bits. */
enum hus_isa { HUS_ISA_SCALAR = 0, HUS_ISA_AVX2 = 1, HUS_ISA_AVX512 = 2, HUS_ISA_NEON = 3 };

/* The path in use: the best the CPU supports, or the one forced by the environment variable
 * HUSAI_ISA=scalar|avx2|avx512|neon.  Decided once, on the first call (thread-safe). */
enum hus_isa hus_isa_current(void);
const char *hus_isa_name(enum hus_isa isa); /* "scalar", "avx2", "avx512", "neon" */
/* If HUSAI_ISA names a path this CPU or build cannot run, or is not a path name: a one-line
 * message saying so (static storage), else NULL.  husai's entry point checks it before any
 * work, so a wrong setting is an error, never a silent fallback. */
const char *hus_isa_env_error(void);
/* Whether this CPU and build can run a path (for tests that loop over the paths). */
int hus_isa_supported(enum hus_isa isa);
/* Force a path for this process (tests and benchmarks); returns 0, or -1 if unsupported. */
int hus_isa_force(enum hus_isa isa);
/* A path's name as HUSAI_ISA spells it: 0 and *out set, or -1 if it names no path. */
int hus_isa_parse(const char *name, enum hus_isa *out);

/* The numeric path recorded in every artifact: "husai-numeric/<version> <isa>", e.g.
 * "husai-numeric/1 avx512".  The version changes whenever any function here would give
 * different bits for the same inputs (docs/reproducibility.md keeps the history). */
#define HUS_NUMERIC_VERSION 1
const char *hus_numeric_path(void);

/* ---------------------------------------------------------------- matrix product ---- */

/*
 * C (M×N) = beta·C + op(A)·op(B), row-major; op(X) = X or Xᵀ (trans_x != 0).  op(A) is M×K,
 * op(B) is K×N.  The canonical reduction order: every C[i][j] is one chain
 *     acc = (beta == 0 ? 0 : beta == 1 ? C[i][j] : beta·C[i][j]);
 *     for k = 0 .. K-1:  acc = fmaf(op(A)[i][k], op(B)[k][j], acc);
 *     C[i][j] = acc;
 * so its bits depend on the values alone: not on the thread count, the blocking of M, N or K
 * (a K block ends by storing acc as a float and the next one resumes from it, which is the
 * same chain), the height or width of the matrices, nor the vector width.  With beta == 0, C
 * is not read (it may hold NaN).  Threads (OpenMP, when called outside a parallel region and
 * the product is large enough) split M and N, never K.  Packing buffers are per thread,
 * allocated on first use, grown when a larger product needs it and reused by later calls
 * (freed when the thread exits); if one cannot be allocated, that part of the product is
 * computed by hus_gemm_ref instead (the same bits), so hus_gemm never fails.
 */
void hus_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
/* The same contract written as the naive triple loop: the reference the fast path is tested
 * against, bit for bit. */
void hus_gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float *A,
                  size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);

/*
 * G (n×n, row-major, both triangles) = W·Wᵀ in double for W (n×m, float, row-major): every
 * G[i][j] is the chain acc = 0; for k in order: acc = fma((double)W[i][k], (double)W[j][k], acc);
 * G[j][i] = G[i][j].  For the subspace Gram matrix (analyze/subspace.c).
 */
void hus_gram_f64(double *G, const float *W, size_t n, size_t m);
/* The same G from Wᵀ stored (m×n): Wt[k][i] = W[i][k] (a decoder as analyze/ keeps it). */
void hus_gram_t_f64(double *G, const float *Wt, size_t n, size_t m);

/* ---------------------------------------------------------------- short reductions -- */

/*
 * Σ_i a[i]·b[i] and Σ_i x[i] in 16 fixed lanes: lane l sums the terms i ≡ l (mod 16) in index
 * order (each product rounded, then added: no fused operation), then the lanes are added in a
 * fixed tree (l += l+8, l += l+4, l += l+2, l += l+1).  The compiler may keep the lanes in
 * vector registers of any width (or none): each lane's order is written out, so the bits are
 * the same under every instruction set and build.  Inline, for the short inner loops of
 * attention, LayerNorm and the SAE kernels.  (An `omp simd reduction` would let the compiler
 * choose the order by the vector width it targets.)
 */
static inline float hus_dot16(const float *restrict a, const float *restrict b, size_t n)
{
	float acc[16] = { 0 };
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			acc[l] += a[i + l] * b[i + l];
	for (int l = 0; i < n; i++, l++)
		acc[l] += a[i] * b[i];
	for (int w = 8; w >= 1; w /= 2)
		for (int l = 0; l < w; l++)
			acc[l] += acc[l + w];
	return acc[0];
}

static inline float hus_sum16(const float *restrict x, size_t n)
{
	float acc[16] = { 0 };
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			acc[l] += x[i + l];
	for (int l = 0; i < n; i++, l++)
		acc[l] += x[i];
	for (int w = 8; w >= 1; w /= 2)
		for (int l = 0; l < w; l++)
			acc[l] += acc[l + w];
	return acc[0];
}

/* ---------------------------------------------------------------- top-k selection --- */

/* The k largest of v[0..n) by (value descending, index ascending): the lowest index wins
 * ties (docs/formulas.md A12), so the set depends on the values alone.  idx gets the min(k, n)
 * chosen indices in ascending order; `heap` is workspace of k entries.  No NaN in v. */
void hus_topk(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap);
/* a[0..n) ascending (the order hus_topk leaves its indices in) */
void hus_sort_i32(int32_t *a, size_t n);

/* ---------------------------------------------------------------- elementary functions */

/*
 * husai's own elementary functions, for every archived path (glibc picks per-CPU variants of
 * its own at load time, so its last bit is not a property of the input alone).  Each is
 * written with +, −, ×, ÷, sqrt and explicit fma only, so it is deterministic everywhere; the
 * error bounds below are tested against long double over the whole range husai uses
 * (tests/test_numeric_math.c) and derived in docs/elementary-functions.md.
 */
float hus_expf(float x);
float hus_logf(float x);
float hus_tanhf(float x);
float hus_erff(float x);
float hus_sinf(float x);
float hus_cosf(float x);
double hus_exp(double x);
double hus_log(double x);
double hus_expm1(double x);
double hus_log1p(double x);
/* The arc cosine on [−1, 1] (numeric/acos.c): NaN outside. */
double hus_acos(double x);
/* x^n for an integer n >= 0, by squaring in double-double: within 1 ulp of the true power. */
double hus_powi(double x, int64_t n);

/* ---------------------------------------------------------------- generators -------- */

/*
 * torch's CPU generator, for bit-exact parity with archived upstream numbers (docs/formulas.md):
 * MT19937 with the standard init_genrand seeding.
 */
struct mt19937 {
	uint32_t mt[624];
	int mti;
};
void mt_seed(struct mt19937 *g, uint32_t seed);
uint32_t mt_next32(struct mt19937 *g);
/* torch.randperm(n, generator seeded with seed) for n < 2^32/20: forward Fisher–Yates. */
void torch_randperm(int64_t *perm, int64_t n, uint64_t seed);
/* torch.randn(numel) float32 from a generator seeded with seed (numel % 16 == 0, >= 16);
 * -1 otherwise. */
int torch_randn_f32(float *out, size_t numel, uint64_t seed);

#endif
