/*
 * progress.h — the one-line terminal progress display and the monotonic clock
 * (formats/progress.c, formats/versions.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_PROGRESS_H
#define HUSAI_FORMATS_PROGRESS_H

#include <stdint.h>

/* ---------------------------------------------------------------- progress ---------- */

/* One line on a terminal, updated in place at most ~10 times a second; silent when stderr is
 * not a tty or HUSAI_QUIET is set. */
struct hus_progress {
	const char *label;
	uint64_t total, done;
	double t_start, t_last;
	int active;
	/* the ETA's rate: seconds per unit, smoothed over the units' completions (an exponential
	 * average, so one slow or fast job does not swing it) */
	double sec_per_unit, t_prev;
	uint64_t prev_done;
};
void hus_progress_begin(struct hus_progress *p, const char *label, uint64_t total);
void hus_progress_update(struct hus_progress *p, uint64_t done, const char *detail);
void hus_progress_end(struct hus_progress *p);
double hus_now(void); /* monotonic seconds */

#endif
