/*
 * fig_f2_k_sweep.c — F2, the core k sweep (docs/formulas.md §6.3 k_sweep records): PWMCC against k, via sweep.c.
 */
#include "internal.h"

int fig_f2_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	return fig_sweep_draw(c, r, RJK_K_SWEEP, RJK_K, skip, nskip, err);
}
