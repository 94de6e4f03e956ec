/*
 * figures.c — the figure table (F1–F10, which experiment kinds each applies to, size and
 * caption) and the renderer that draws each applicable figure once per device with the same
 * code, writing <out>/<run>/figures/<stem>.{png,svg,pdf}.  Each drawing is preceded by one
 * on a recording surface whose log says which series would be hidden (plot/overlap.c).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define K(x) (1u << (x))
#define SWEEPS (K(REP_CORE) | K(REP_ADAPTIVE) | K(REP_CONSISTENCY) | K(REP_STABILITY))
#define ALL ((1u << REP_NKINDS) - 1)

/* Sizes in points for the "screen" style: 252 pt = 3.5 in for one panel, 504 pt for many;
 * other styles rescale them (plot/style.c fig_style_size). */
const struct rep_figure rep_figures[] = {
	{ "F1", "F1_trained_vs_random", "Trained vs random PWMCC: mean with 95% bootstrap CI, every pairwise value, R1/R2 controls and the analytic null",
	  252, 210, K(REP_PHASE4A) | K(REP_SMOKE) | K(REP_DEMO), fig_f1_draw, NULL },
	{ "F2", "F2_k_sweep", "PWMCC against k (log2 axis): trained and random means with 95% CI bands; EV on the right axis",
	  252, 200, K(REP_CORE) | K(REP_STABILITY), fig_f2_draw, NULL },
	{ "F3", "F3_d_sae_sweep", "PWMCC against d_sae (log2 axis): trained and random means with 95% CI bands; EV on the right axis",
	  252, 200, K(REP_CORE) | K(REP_STABILITY), fig_f3_draw, NULL },
	{ "F4", "F4_adaptive_l0", "Adaptive L0 search: trained, random and conservative LCB against k, EV against its floor, selected k marked",
	  252, 330, K(REP_ADAPTIVE), fig_f4_draw, NULL },
	{ "F5", "F5_consistency", "Consistency sweep: delta (with conservative LCB) and alignment-to-reference against lambda, with EV",
	  252, 330, K(REP_CONSISTENCY), fig_f5_draw, NULL },
	{ "F6", "F6_pairwise_heatmaps", "Seed x seed PWMCC, annotated",
	  504, 230, ALL, fig_f6_draw, fig_f6_size },
	{ "F7", "F7_ev_vs_pwmcc", "Explained variance against trained PWMCC per condition (95% CI whiskers on both)",
	  252, 220, SWEEPS, fig_f7_draw, NULL },
	{ "F8", "F8_training_curves", "Training curves: MSE, EV, L0 and dead fraction against steps",
	  504, 330, ALL, fig_f8_draw, NULL },
	{ "F9", "F9_feature_stability", "Per-feature stability: ECDF of each feature's best-match similarity, trained vs control",
	  252, 210, ALL, fig_f9_draw, NULL },
	{ "F10", "F10_convergence", "EV and PWMCC against SAE steps: seed-mean EV per k (axis from the first checkpoint on), cross-seed PWMCC with 95% CI at checkpoints, the default and the criterion's step marked",
	  252, 330, K(REP_CONVERGENCE), fig_f10_draw, NULL },
	{ "F11", "F11_pwmcc_vs_truth", "Cross-seed PW-MCC against MCC to the planted true dictionary: one point per (architecture, seed) and one at the architecture mean, labelled; y = x dashed",
	  252, 240, K(REP_PLANTED), fig_f11_draw, NULL },
};
const size_t rep_nfigures = sizeof(rep_figures) / sizeof(rep_figures[0]);

void rep_figure_size(const struct rep_figure *f, const struct rep_run *r, double *w, double *h)
{
	fig_style_size(f->w, f->h, f->w > 300, w, h);
	if (f->size)
		f->size(r, w, h);
}

int rep_figure_draw(const struct rep_figure *f, const struct rep_run *r, enum fig_device dev,
                    const char *skip_series, struct fig_canvas *c, char *skip, size_t nskip,
                    struct hus_err *err)
{
	double w, h;
	rep_figure_size(f, r, &w, &h);
	/* first drawing, on a recording surface: which series would lie hidden (plot/overlap.c) */
	struct fig_nested nested[8];
	size_t nn = 0;
	int rc = fig_canvas_open(c, FIG_REC, w, h, r->date, err);
	if (rc)
		return rc;
	rc = f->draw(c, r, skip, nskip, err);
	if (!rc)
		nn = fig_overlap_resolve(c, nested, sizeof(nested) / sizeof(nested[0]));
	fig_canvas_release(c);
	if (rc)
		return rc;
	if ((rc = fig_canvas_open(c, dev, w, h, r->date, err)))
		return rc;
	memcpy(c->nested, nested, nn * sizeof(nested[0]));
	c->n_nested = nn;
	if (skip_series)
		snprintf(c->skip_series, sizeof(c->skip_series), "%s", skip_series);
	rc = f->draw(c, r, skip, nskip, err);
	if (rc)
		fig_canvas_release(c);
	return rc;
}

static const char *ext_of(enum fig_device d)
{
	return d == FIG_PNG ? "png" : d == FIG_SVG ? "svg" : "pdf";
}

int rep_figures_render(const struct rep_run *r, const char *out_root, unsigned formats,
                       struct rep_fig_result *res, size_t *nres, struct hus_err *err)
{
	char dir[PATH_MAX + 80];
	snprintf(dir, sizeof(dir), "%s/%s/figures", out_root, r->name);
	*nres = 0;
	int made_dir = 0;
	for (size_t f = 0; f < rep_nfigures; f++) {
		const struct rep_figure *fig = &rep_figures[f];
		if (!(fig->kinds & (1u << r->kind)))
			continue;
		struct rep_fig_result *o = &res[(*nres)++];
		memset(o, 0, sizeof(*o));
		o->id = fig->id;
		o->name = fig->name;
		o->caption = fig->caption;
		snprintf(o->path, sizeof(o->path), "%s/figures/%s", r->name, fig->name);
		static const enum fig_device devs[] = { FIG_PNG, FIG_SVG, FIG_PDF };
		for (size_t d = 0; d < 3; d++) {
			if (!(formats & devs[d]))
				continue;
			struct fig_canvas c;
			struct rep_nulls nulls = { 0 };
			struct rep_run rr = *r; /* the same run, with a null registry for this figure */
			rr.nulls = &nulls;
			int rc = rep_figure_draw(fig, &rr, devs[d], NULL, &c, o->skip, sizeof(o->skip), err);
			if (rc < 0)
				return rc;
			if (rc > 0) /* not applicable: the reason goes into the report */
				break;
			size_t nn = nulls.n + nulls.overflow;
			if (nn) { /* the figure's own footnote; the Markdown repeats it */
				char note[96];
				snprintf(note, sizeof(note), "%zu null value%s in results.json left as gap%s", nn,
				         nn == 1 ? "" : "s", nn == 1 ? "" : "s");
				fig_set_colour(c.cr, FIG_BLACK, 1);
				fig_text(c.cr, c.w - 1, c.h - 1, note, FIG_PT_TICK - 1.5, 1, 1, 0);
			}
			if (!made_dir) {
				if ((rc = hus_mkdirs(dir, err))) {
					fig_canvas_release(&c);
					return rc;
				}
				made_dir = 1;
			}
			char path[PATH_MAX + 200];
			snprintf(path, sizeof(path), "%s/%s.%s", dir, fig->name, ext_of(devs[d]));
			o->n_nonfinite = nn;
			o->null_paths[0] = 0;
			for (size_t k = 0; k < nulls.n && k < 6; k++) {
				size_t l = strlen(o->null_paths);
				snprintf(o->null_paths + l, sizeof(o->null_paths) - l, "%s%s", k ? ", " : "",
				         k == 5 ? "..." : nulls.path[k]);
			}
			rc = fig_canvas_save(&c, path, err);
			fig_canvas_release(&c);
			if (rc)
				return rc;
			o->drawn = 1;
		}
	}
	return 0;
}
