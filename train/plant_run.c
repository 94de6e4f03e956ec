/*
 * plant_run.c — the work of `husai plant` (struct plant_request in train.h; the verb,
 * cmd_plant.c, only parses the command line): the `plant:` section of a YAML file and the
 * --set overrides read into a planted_spec (planted.c, docs/formulas.md §10), its config (the
 * plant section alone) recorded and hashed, and the set drawn and written.  A bad setting is a
 * named error and no file is written.
 */
#include <stdio.h>
#include <stdlib.h>

#include "train.h"

/* The artifact's config: the plant section alone, so its hash is the set's identity;
 * *resolved is malloc'ed. */
static int plant_config(struct cfg *cf, char **resolved, char hash[65], struct hus_err *err)
{
	static const char *const secs[] = { "plant", NULL };
	struct cfg *pc = NULL;
	char *text = cfg_sections_yaml(cf, secs);
	int rc = text ? cfg_load_string(&pc, text, cfg_name(cf), err)
	              : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	free(text);
	struct planted_spec again;
	if (!rc)
		rc = planted_spec_read(pc, &again, err);
	if (!rc) {
		*resolved = cfg_resolved_yaml(pc);
		cfg_hash(pc, hash);
	}
	if (pc)
		cfg_free(pc);
	return rc;
}

int plant_run(const struct plant_request *q, struct planted_spec *s, struct hus_err *err)
{
	struct cfg *cf = NULL;
	char hash[65], *resolved = NULL;
	int rc = q->config ? cfg_load(&cf, q->config, err) : 0;
	if (!rc && !cf && !(cf = cfg_empty("(command line)")))
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	if (!rc)
		rc = hus_sets_apply(&q->sets, cf, err);
	if (!rc)
		rc = planted_spec_read(cf, s, err);
	if (!rc) { /* a run's job config also holds its other sections: only plant: is ours */
		static const char *const others[] = { "experiment", "data", "transformer", "extract",
		                                      "sae", "analysis", "report", NULL };
		free(cfg_sections_yaml(cf, others));
		rc = cfg_finish(cf, err);
	}
	if (!rc)
		rc = plant_config(cf, &resolved, hash, err);
	if (!rc) {
		struct hus_provenance prov = { resolved ? resolved : "", hash };
		rc = planted_generate(q->out, s, &prov, err);
	}
	free(resolved);
	if (cf)
		cfg_free(cf);
	return rc;
}
