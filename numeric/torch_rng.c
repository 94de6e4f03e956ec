/*
 * torch_rng.c — torch's CPU generator, reproduced so that archived upstream numbers can be
 * re-derived bit for bit: MT19937 (Matsumoto & Nishimura, init_genrand seeding), torch's
 * randperm (forward Fisher–Yates, docs/formulas.md §1.4) and its vectorised float32 randn (Box–Muller
 * over blocks of 16, docs/formulas.md §5.3).  Written by hand because no Debian library exposes torch's
 * exact consumption order; GSL's mt19937 has the same core but not these transforms.
 * Lives in numeric/ because it is part of the archive contract shared by every stage; its
 * logarithm, sine and cosine are husai's own (elementary.c), so its bits are the same on every
 * CPU.
 */
#include <math.h>

#include "numeric.h"

void mt_seed(struct mt19937 *g, uint32_t seed)
{
	g->mt[0] = seed;
	for (int i = 1; i < 624; i++)
		g->mt[i] = 1812433253u * (g->mt[i - 1] ^ (g->mt[i - 1] >> 30)) + (uint32_t)i;
	g->mti = 624;
}

uint32_t mt_next32(struct mt19937 *g)
{
	static const uint32_t mag01[2] = { 0u, 0x9908b0dfu };
	uint32_t y;
	if (g->mti >= 624) {
		int kk;
		for (kk = 0; kk < 624 - 397; kk++) {
			y = (g->mt[kk] & 0x80000000u) | (g->mt[kk + 1] & 0x7fffffffu);
			g->mt[kk] = g->mt[kk + 397] ^ (y >> 1) ^ mag01[y & 1u];
		}
		for (; kk < 623; kk++) {
			y = (g->mt[kk] & 0x80000000u) | (g->mt[kk + 1] & 0x7fffffffu);
			g->mt[kk] = g->mt[kk + (397 - 624)] ^ (y >> 1) ^ mag01[y & 1u];
		}
		y = (g->mt[623] & 0x80000000u) | (g->mt[0] & 0x7fffffffu);
		g->mt[623] = g->mt[396] ^ (y >> 1) ^ mag01[y & 1u];
		g->mti = 0;
	}
	y = g->mt[g->mti++];
	y ^= (y >> 11);
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= (y >> 18);
	return y;
}

void torch_randperm(int64_t *perm, int64_t n, uint64_t seed)
{
	struct mt19937 g;
	mt_seed(&g, (uint32_t)(seed & 0xffffffffu));
	for (int64_t i = 0; i < n; i++)
		perm[i] = i;
	for (int64_t i = 0; i + 1 < n; i++) {
		int64_t z = (int64_t)(mt_next32(&g) % (uint32_t)(n - i));
		int64_t t = perm[i];
		perm[i] = perm[i + z];
		perm[i + z] = t;
	}
}

int torch_randn_f32(float *out, size_t numel, uint64_t seed)
{
	if (numel < 16 || numel % 16)
		return -1;
	struct mt19937 g;
	mt_seed(&g, (uint32_t)(seed & 0xffffffffu));
	for (size_t i = 0; i < numel; i++)
		out[i] = (float)(mt_next32(&g) & 0xFFFFFFu) * (1.0f / 16777216.0f);
	for (size_t b = 0; b < numel; b += 16) {
		float *d = out + b;
		for (int j = 0; j < 8; j++) {
			float u1 = 1.0f - d[j], u2 = d[j + 8];
			float radius = sqrtf(-2.0f * hus_logf(u1));
			float theta = 2.0f * (float)M_PI * u2;
			d[j] = radius * hus_cosf(theta);
			d[j + 8] = radius * hus_sinf(theta);
		}
	}
	return 0;
}
