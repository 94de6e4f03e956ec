/*
 * bench_sae.c — benchmark cases for the sae hot path.  Placeholder until its issue lands.
 */
#include <stdio.h>

#include "bench.h"

int bench_sae_small(struct bench_result *r)
{
	snprintf(r->note, sizeof(r->note), "not implemented yet");
	return 1;
}

int bench_sae_large(struct bench_result *r)
{
	snprintf(r->note, sizeof(r->note), "not implemented yet");
	return 1;
}
