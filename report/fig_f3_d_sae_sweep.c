/*
 * fig_f3_d_sae_sweep.c — F3, the core d_sae sweep (docs/formulas.md §6.3 d_sae_sweep records): PWMCC against d_sae,
 * via sweep.c.
 */
#include "internal.h"

int fig_f3_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	return fig_sweep_draw(c, r, RJK_D_SAE_SWEEP, RJK_D_SAE, skip, nskip, err);
}
