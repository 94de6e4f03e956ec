/*
 * progress.c — one updating line on a terminal for long work ("label  done/total  detail
 * ETA"), at most ten redraws a second, the ETA from a smoothed rate; nothing at all when stderr is not a terminal or
 * HUSAI_QUIET is set, so logs and CI stay clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "formats.h"

void hus_progress_begin(struct hus_progress *p, const char *label, uint64_t total)
{
	p->label = label;
	p->total = total;
	p->done = 0;
	p->t_start = p->t_last = p->t_prev = hus_now();
	p->sec_per_unit = 0;
	p->prev_done = 0;
	const char *q = getenv("HUSAI_QUIET");
	p->active = isatty(STDERR_FILENO) && !(q && *q && *q != '0');
}

void hus_progress_update(struct hus_progress *p, uint64_t done, const char *detail)
{
	p->done = done;
	if (!p->active)
		return;
	double now = hus_now();
	if (done > p->prev_done) { /* a completion: fold its rate into the average */
		double sample = (now - p->t_prev) / (double)(done - p->prev_done);
		p->sec_per_unit = p->sec_per_unit > 0 ? 0.7 * p->sec_per_unit + 0.3 * sample : sample;
		p->t_prev = now;
		p->prev_done = done;
	}
	if (now - p->t_last < 0.1 && done < p->total)
		return;
	p->t_last = now;
	char eta[32] = "";
	if (done > 0 && p->total > done) {
		double rem = p->sec_per_unit * (double)(p->total - done);
		snprintf(eta, sizeof(eta), " ETA %dm%02ds", (int)(rem / 60), (int)rem % 60);
	}
	fprintf(stderr, "\r\033[K%s  %llu/%llu%s%s%s", p->label, (unsigned long long)done,
		(unsigned long long)p->total, detail ? "  " : "", detail ? detail : "", eta);
	fflush(stderr);
}

void hus_progress_end(struct hus_progress *p)
{
	if (p->active) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	p->active = 0;
}
