/*
 * bench_pwmcc.c — benchmark cases for the pwmcc hot path.  Placeholder until its issue lands.
 */
#include <stdio.h>

#include "bench.h"

int bench_pwmcc_small(struct bench_result *r)
{
	snprintf(r->note, sizeof(r->note), "not implemented yet");
	return 1;
}

int bench_pwmcc_large(struct bench_result *r)
{
	snprintf(r->note, sizeof(r->note), "not implemented yet");
	return 1;
}
