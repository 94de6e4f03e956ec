/*
 * exp_smoke.c — the smoke experiment (spec §6.1) and the demo: transformer, extraction, SAEs,
 * analysis.  (Being written: the stage verbs land first.)
 */
#include "exp_kinds.h"

int exp_smoke(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	(void)r, (void)ex;
	return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.kind",
			"the smoke experiment is not available yet");
}

int exp_demo(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	(void)r, (void)ex;
	return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.kind",
			"the demo experiment is not available yet");
}
