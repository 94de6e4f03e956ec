/* gemm.c — PLACEHOLDER until the packed kernels land: rows split over threads, naive chains. */
#include <omp.h>

#include "numeric.h"

void hus_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float *A,
              size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
#pragma omp parallel for schedule(static) if (M * N * K > (1u << 20) && !omp_in_parallel())
	for (size_t i = 0; i < M; i++)
		hus_gemm_ref(trans_a, trans_b, 1, N, K, trans_a ? A + i : A + i * lda, lda, B, ldb, beta,
		             C + i * ldc, ldc);
}

enum hus_isa hus_isa_current(void) { return HUS_ISA_SCALAR; }
const char *hus_isa_name(enum hus_isa isa)
{
	static const char *const names[] = { "scalar", "avx2", "avx512", "neon" };
	return (unsigned)isa < 4 ? names[isa] : "unknown";
}
const char *hus_isa_env_error(void) { return NULL; }
int hus_isa_supported(enum hus_isa isa) { return isa == HUS_ISA_SCALAR; }
int hus_isa_force(enum hus_isa isa) { return isa == HUS_ISA_SCALAR ? 0 : -1; }
const char *hus_numeric_path(void) { return "husai-numeric/1 scalar"; }
