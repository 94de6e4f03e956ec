/*
 * bench_transformer.c — benchmark cases for the transformer hot path.  Placeholder until its issue lands.
 */
#include <stdio.h>

#include "bench.h"

int bench_transformer_b512(struct bench_result *r)
{
	snprintf(r->note, sizeof(r->note), "not implemented yet");
	return 1;
}

int bench_transformer_b2048(struct bench_result *r)
{
	snprintf(r->note, sizeof(r->note), "not implemented yet");
	return 1;
}
