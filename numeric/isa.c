/*
 * isa.c — which micro-kernel path the matrix product runs (numeric.h): detected once from the
 * CPU, or forced by HUSAI_ISA=scalar|avx2|avx512|neon.  Every path gives the same bits (each
 * element is the same fma chain, docs/reproducibility.md), so the path is recorded in
 * artifacts for speed forensics only, never to explain a difference in numbers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "gemm_internal.h"

#define HUS_STR2(x) #x
#define HUS_STR(x) HUS_STR2(x)

static const char *const isa_names[] = { "scalar", "avx2", "avx512", "neon" };
#define N_ISA 4

const char *hus_isa_name(enum hus_isa isa)
{
	return (unsigned)isa < N_ISA ? isa_names[isa] : "unknown";
}

int hus_isa_parse(const char *name, enum hus_isa *out)
{
	for (int i = 0; name && i < N_ISA; i++)
		if (!strcmp(name, isa_names[i])) {
			*out = (enum hus_isa)i;
			return 0;
		}
	return -1;
}

int hus_isa_supported(enum hus_isa isa)
{
	switch (isa) {
	case HUS_ISA_SCALAR:
		return 1;
#if defined(HUS_HAVE_X86_KERNELS)
	case HUS_ISA_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	case HUS_ISA_AVX512:
		/* its packing uses AVX2 (every AVX-512 CPU has it) */
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2");
#endif
#if defined(HUS_HAVE_NEON_KERNEL)
	case HUS_ISA_NEON:
		return 1; /* Advanced SIMD is part of every AArch64 CPU */
#endif
	default:
		return 0;
	}
}

const struct hus_gemm_kernel *hus_gemm_kernel_for(enum hus_isa isa)
{
	switch (isa) {
#if defined(HUS_HAVE_X86_KERNELS)
	case HUS_ISA_AVX2:
		return &hus_gemm_kernel_avx2;
	case HUS_ISA_AVX512:
		return &hus_gemm_kernel_avx512;
#endif
#if defined(HUS_HAVE_NEON_KERNEL)
	case HUS_ISA_NEON:
		return &hus_gemm_kernel_neon;
#endif
	case HUS_ISA_SCALAR:
		return &hus_gemm_kernel_scalar;
	default:
		return NULL;
	}
}

/* Decided once (call_once): the best path, or the forced one when HUSAI_ISA names a path this
 * CPU and build can run; otherwise the best path and a message for hus_isa_env_error. */
static once_flag isa_once = ONCE_FLAG_INIT;
static enum hus_isa isa_detected;
static char isa_error[320];
static const char *isa_error_msg;
static atomic_int isa_forced = -1;

static void isa_detect(void)
{
	enum hus_isa best = HUS_ISA_SCALAR;
	char have[64] = "";
	for (int i = 0; i < N_ISA; i++)
		if (hus_isa_supported((enum hus_isa)i)) {
			/* paths are numbered from slowest to fastest within an architecture */
			best = (enum hus_isa)i;
			snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s",
			         have[0] ? ", " : "", isa_names[i]);
		}
	isa_detected = best;
	const char *env = getenv("HUSAI_ISA");
	if (!env || !env[0])
		return;
	enum hus_isa want;
	if (hus_isa_parse(env, &want)) {
		snprintf(isa_error, sizeof(isa_error),
		         "HUSAI_ISA=%.40s is not a path name (scalar, avx2, avx512, neon); this CPU "
		         "runs %s: set HUSAI_ISA to one of those, or unset it for %s",
		         env, have, isa_names[best]);
		isa_error_msg = isa_error;
	} else if (!hus_isa_supported(want)) {
		snprintf(isa_error, sizeof(isa_error),
		         "HUSAI_ISA=%s: this CPU and build cannot run the %s path; it runs %s: set "
		         "HUSAI_ISA to one of those, or unset it for %s",
		         env, env, have, isa_names[best]);
		isa_error_msg = isa_error;
	} else {
		isa_detected = want;
	}
}

enum hus_isa hus_isa_current(void)
{
	int forced = atomic_load_explicit(&isa_forced, memory_order_relaxed);
	if (forced >= 0)
		return (enum hus_isa)forced;
	call_once(&isa_once, isa_detect);
	return isa_detected;
}

const char *hus_isa_env_error(void)
{
	call_once(&isa_once, isa_detect);
	return isa_error_msg;
}

int hus_isa_force(enum hus_isa isa)
{
	if (!hus_isa_supported(isa))
		return -1;
	atomic_store_explicit(&isa_forced, (int)isa, memory_order_relaxed);
	return 0;
}

const char *hus_numeric_path(void)
{
	static const char *const paths[] = {
		"husai-numeric/" HUS_STR(HUS_NUMERIC_VERSION) " scalar",
		"husai-numeric/" HUS_STR(HUS_NUMERIC_VERSION) " avx2",
		"husai-numeric/" HUS_STR(HUS_NUMERIC_VERSION) " avx512",
		"husai-numeric/" HUS_STR(HUS_NUMERIC_VERSION) " neon",
	};
	return paths[hus_isa_current()];
}
