/*
 * test_plot_layout.c — what a reviewer would reject, checked on every figure of every kind
 * drawn from synthetic runs with 2, 3, 5 and 10 seeds (and large seed numbers), in each
 * style: no ink outside the page (cairo's recording surface measures it), no data series
 * fully hidden by another (each series left out in turn must change the PNG), and the same
 * layout and page size in PNG, SVG and PDF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_report_util.h"

static const size_t seed_counts[] = { 2, 3, 5, 10 };
static const char *const styles[] = { "screen", "paper", "paper-1col", "paper-2col" };

/* ------------------------------------------------------------ synthetic runs ------- */

static int64_t seed_of(size_t i)
{
	return i == 0 ? 42 : 1000 + 137 * (int64_t)i; /* wide labels, as real seeds have */
}

/* A summary of docs/formulas.md §6.0 over the pairs of n seeds, value base + jitter. */
static hj *summary(size_t n, double base, double spread)
{
	hj *s = hj_obj(), *vals = hj_arr(), *pw = hj_arr();
	double sum = 0, lo = INFINITY, hi = -INFINITY;
	size_t np = 0;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++) {
			double v = base + spread * (double)((a * 7 + b * 3) % 5) / 4.0;
			hj_push(vals, hj_num(v));
			hj *p = hj_obj();
			hj_set(p, "seed_a", hj_int(seed_of(a)));
			hj_set(p, "seed_b", hj_int(seed_of(b)));
			hj_set(p, "pwmcc", hj_num(v));
			hj_push(pw, p);
			sum += v, lo = fmin(lo, v), hi = fmax(hi, v), np++;
		}
	double mean = sum / (double)np;
	hj_set(s, "mean", hj_num(mean));
	hj_set(s, "std", hj_num(spread / 3));
	hj_set(s, "min", hj_num(lo));
	hj_set(s, "max", hj_num(hi));
	hj_set(s, "median", hj_num(mean));
	hj_set(s, "ci95_low", hj_num(mean - spread / 2));
	hj_set(s, "ci95_high", hj_num(mean + spread / 2));
	hj_set(s, "n", hj_int((int64_t)np));
	hj_set(s, "pwmcc_values", vals);
	hj_set(s, "pairwise", pw);
	return s;
}

static hj *plain(double mean, double half)
{
	hj *s = hj_obj();
	hj_set(s, "mean", hj_num(mean));
	hj_set(s, "ci95_low", hj_num(mean - half));
	hj_set(s, "ci95_high", hj_num(mean + half));
	hj_set(s, "n", hj_int(5));
	return s;
}

/* R1 and R2 equal and both on the analytic null: the case where lines hide each other. */
static hj *controls(size_t n)
{
	hj *c = hj_obj();
	hj_set(c, "r2", summary(n, 0.266, 0.001));
	hj_set(c, "analytic_null", hj_num(0.2665));
	return c;
}

static hj *array(size_t n, double a, double b)
{
	hj *v = hj_arr();
	for (size_t i = 0; i < n; i++)
		hj_push(v, hj_num(a + b * (double)i));
	return v;
}

static void add_curves(hj *res, const char *const *conds, size_t nc, size_t nseeds)
{
	hj *tc = hj_obj(), *pf = hj_obj();
	for (size_t c = 0; c < nc; c++) {
		for (size_t s = 0; s < nseeds; s++) {
			hj *cv = hj_obj();
			hj_set(cv, "step", array(11, 0, 20));
			hj_set(cv, "mse", array(11, 0.6 + 0.01 * (double)s, -0.05));
			hj_set(cv, "explained_variance", array(11, 0.0, 0.08 + 0.001 * (double)c));
			hj_set(cv, "l0", array(11, 40, -0.7)); /* equal across conditions: coincide */
			hj_set(cv, "dead_fraction", array(11, 0.3, -0.02));
			char key[128];
			snprintf(key, sizeof(key), "%s/%lld", conds[c], (long long)seed_of(s));
			hj_set(tc, key, cv);
		}
		hj *p = hj_obj();
		hj_set(p, "trained", array(64, 0.2, 0.011));
		hj_set(p, "control", array(64, 0.1, 0.004));
		hj_set(pf, conds[c], p);
	}
	hj_set(res, "training_curves", tc);
	hj_set(res, "per_feature_stability", pf);
}

static hj *sweep_record(size_t n, const char *grid, double d_sae, double k, double t)
{
	hj *r = hj_obj();
	char cond[96];
	snprintf(cond, sizeof(cond), "%s_dsae%g_k%g", grid, d_sae, k);
	hj_set(r, "grid", hj_str(grid));
	hj_set(r, "condition", hj_str(cond));
	hj_set(r, "d_sae", hj_num(d_sae));
	hj_set(r, "k", hj_num(k));
	hj_set(r, "n_seeds", hj_int((int64_t)n));
	hj_set(r, "trained_pwmcc", summary(n, t, 0.01));
	hj_set(r, "random_pwmcc", summary(n, 0.266, 0.001));
	hj_set(r, "controls", controls(n));
	hj_set(r, "explained_variance", plain(0.93 + t / 100, 0.002));
	return r;
}

static void make_run(struct rep_run *r, enum rep_kind kind, size_t n)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->results_path, sizeof(r->results_path), "synthetic/%s/results.json",
	         rep_kind_name(kind));
	r->kind = kind;
	snprintf(r->name, sizeof(r->name), "%s", rep_kind_name(kind));
	hj *res = hj_obj();
	hj_set(res, "experiment", hj_str(rep_kind_name(kind)));
	switch (kind) {
	case REP_PHASE4A:
	case REP_DEMO:
	case REP_SMOKE:
		hj_set(res, "trained", summary(n, 0.55, 0.02));
		hj_set(res, "random", summary(n, 0.266, 0.001));
		hj_set(res, "controls", controls(n));
		if (kind != REP_PHASE4A) {
			static const char *const c[] = { "demo_dsae256_k8" };
			add_curves(res, c, 1, n);
		}
		break;
	case REP_CORE:
	case REP_STABILITY: {
		hj *ks = hj_arr(), *ds = hj_arr();
		static const double kv[] = { 8, 16, 32, 64 }, dv[] = { 64, 128, 256, 512 };
		for (size_t i = 0; i < 4; i++) {
			hj_push(ks, sweep_record(n, "k_sweep", 256, kv[i], 0.52 - 0.04 * (double)i));
			hj_push(ds, sweep_record(n, "d_sae_sweep", dv[i], 32, 0.40 + 0.02 * (double)i));
		}
		hj_set(res, "k_sweep", ks);
		hj_set(res, "d_sae_sweep", ds);
		static const char *const c[] = { "k_sweep_dsae256_k8", "k_sweep_dsae256_k32" };
		add_curves(res, c, 2, n);
		break;
	}
	case REP_ADAPTIVE: {
		hj *recs = hj_arr();
		for (size_t i = 0; i < 5; i++) {
			double k = 4 << i, t = 0.55 - 0.05 * (double)i;
			hj *rec = sweep_record(n, "search", 256, k, t);
			hj_set(rec, "delta_pwmcc", hj_num(t - 0.266));
			hj_set(rec, "delta_pwmcc_ci_low_conservative", hj_num(t - 0.266 - 0.02));
			hj_push(recs, rec);
		}
		hj_set(res, "search_records", recs);
		hj *sel = hj_obj();
		hj_set(sel, "selected_k", hj_num(16));
		hj_set(sel, "ev_floor", hj_num(0.931));
		hj_set(res, "selection", sel);
		static const char *const c[] = { "adaptive_dsae256_k16" };
		add_curves(res, c, 1, n);
		break;
	}
	case REP_CONSISTENCY: {
		hj *recs = hj_arr();
		static const double lv[] = { 0, 0.001, 0.01, 0.1 };
		for (size_t i = 0; i < 4; i++) {
			hj *rec = sweep_record(n, "consistency", 256, 32, 0.4 + 0.03 * (double)i);
			hj_set(rec, "lambda_consistency", hj_num(lv[i]));
			hj_set(rec, "delta_pwmcc", hj_num(0.13 + 0.03 * (double)i));
			hj_set(rec, "delta_pwmcc_ci_low_conservative", hj_num(0.11 + 0.03 * (double)i));
			hj_set(rec, "alignment_to_ref", plain(0.6 + 0.05 * (double)i, 0.02));
			hj_push(recs, rec);
		}
		hj_set(res, "records", recs);
		hj *sel = hj_obj();
		hj_set(sel, "selected_lambda", hj_num(0.01));
		hj_set(res, "selection", sel);
		break;
	}
	case REP_CONVERGENCE: {
		hj *recs = hj_arr();
		for (size_t i = 0; i < 3; i++) {
			hj *rec = hj_obj(), *curve = hj_obj(), *cps = hj_arr();
			hj_set(rec, "k", hj_num(8 << (2 * i)));
			hj_set(curve, "step", array(21, 0, 100));
			hj_set(curve, "explained_variance_mean", array(21, 0.5 + 0.1 * (double)i, 0.01));
			hj_set(rec, "curve", curve);
			for (size_t j = 0; j < 5; j++) {
				hj *cp = hj_obj();
				hj_set(cp, "step", hj_num(500.0 * (double)j));
				hj_set(cp, "pwmcc", plain(0.3 + 0.04 * (double)j + 0.01 * (double)i, 0.01));
				hj_push(cps, cp);
			}
			hj_set(rec, "pwmcc_checkpoints", cps);
			hj_push(recs, rec);
		}
		hj_set(res, "records", recs);
		hj_set(res, "default_steps", hj_num(1000));
		hj_set(res, "chosen_step", hj_num(1500));
		hj_set(res, "analytic_null", hj_num(0.2665));
		break;
	}
	case REP_PLANTED: { /* architectures whose means lie close: their labels must not collide */
		static const char *const arch[] = { "topk", "batchtopk", "relu", "jumprelu", "gated",
			                            "matryoshka" };
		hj *conds = hj_arr();
		for (size_t a = 0; a < 6; a++) {
			hj *rec = hj_obj(), *per = hj_arr(), *pw = hj_obj();
			double mx = 0.62 + 0.004 * (double)a, my = 0.48 + 0.003 * (double)(a % 3);
			for (size_t s = 0; s < n; s++) {
				hj *ps = hj_obj();
				hj_set(ps, "seed", hj_int(seed_of(s)));
				hj_set(ps, "mcc_truth", hj_num(mx + 0.01 * (double)((s * 3 + a) % 5) - 0.02));
				hj_set(ps, "pwmcc_mean_to_others", hj_num(my + 0.01 * (double)((s + a) % 4) - 0.015));
				hj_push(per, ps);
			}
			hj_set(rec, "condition", hj_str(arch[a]));
			hj_set(rec, "per_seed", per);
			hj_set(rec, "mcc_truth_mean", hj_num(mx));
			hj_set(pw, "mean", hj_num(my));
			hj_set(rec, "trained_pwmcc", pw);
			hj_push(conds, rec);
		}
		hj_set(res, "conditions", conds);
		hj_set(res, "correlation_pwmcc_mcc", hj_obj());
		hj_set(hj_get(res, "correlation_pwmcc_mcc"), "across_seeds", hj_obj());
		hj_set(hj_get(res, "correlation_pwmcc_mcc.across_seeds"), "spearman", hj_num(0.31));
		break;
	}
	default:
		break;
	}
	r->res = res;
}

/* ------------------------------------------------------------ helpers -------------- */

static int draw_fig(struct fig_canvas *c, enum fig_device dev, const struct rep_run *r,
                    const struct rep_figure *f, const char *skip_series)
{
	struct hus_err err = { 0 };
	char skip[256] = "";
	int rc = rep_figure_draw(f, r, dev, skip_series, c, skip, sizeof(skip), &err);
	if (rc < 0) {
		hus_err_print(&err);
		fail_msg("%s: drawing failed", f->id);
	}
	return rc;
}

static const enum rep_kind kinds[] = { REP_PHASE4A, REP_CORE, REP_ADAPTIVE, REP_CONSISTENCY,
	                               REP_DEMO, REP_CONVERGENCE, REP_STABILITY, REP_PLANTED };

/* Ink must keep this far from the page's edge: a label that touches the edge reads as cut
 * off (the figure's own blank margin is FIG_MARGIN, 4 pt). */
#define EDGE_CLEAR 1.0

static void use_style(const char *name)
{
	struct fig_style st;
	assert_int_equal(fig_style_preset(name, &st), 0);
	fig_style_use(&st);
}

/* ------------------------------------------------------------ tests ---------------- */

/* The measure itself: text that runs past the right edge is seen, text inside is not. */
static void test_ink_measure(void **state)
{
	(void)state;
	for (int out = 0; out < 2; out++) {
		struct fig_canvas c;
		struct hus_err err = { 0 };
		assert_int_equal(fig_canvas_open(&c, FIG_REC, 100, 50, NULL, &err), 0);
		fig_text(c.cr, out ? c.w - 3 : 2, 10, "PWMCC", FIG_PT_TICK, 0, 0, 0);
		double x, y, w, h;
		cairo_recording_surface_ink_extents(c.surf, &x, &y, &w, &h);
		assert_true(w > 3 && h > 3);
		assert_int_equal(x + w > c.page_w, out);
		assert_true(x > 0 && y > 0);
		fig_canvas_release(&c);
	}
}

/* What a check of one drawing counts: the things it looked at and the faults it printed. */
struct tally {
	size_t checked, bad;
};
typedef void (*drawing_check)(const struct fig_canvas *c, const char *where, struct tally *t);

/* Every figure of every kind, in every style and at every seed count, drawn on a recording
 * surface and handed to `check` with a line saying which drawing it is. */
static struct tally each_drawing(drawing_check check)
{
	struct tally t = { 0, 0 };
	for (size_t st = 0; st < sizeof(styles) / sizeof(styles[0]); st++) {
		use_style(styles[st]);
		for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++)
			for (size_t si = 0; si < sizeof(seed_counts) / sizeof(seed_counts[0]); si++) {
				struct rep_run r;
				make_run(&r, kinds[ki], seed_counts[si]);
				for (size_t f = 0; f < rep_nfigures; f++) {
					if (!(rep_figures[f].kinds & (1u << r.kind)))
						continue;
					struct fig_canvas c;
					if (draw_fig(&c, FIG_REC, &r, &rep_figures[f], NULL))
						continue;
					char where[160];
					snprintf(where, sizeof(where), "%s, %s style, %zu seeds, %s",
					         rep_figures[f].id, styles[st], seed_counts[si],
					         rep_kind_name(r.kind));
					check(&c, where, &t);
					fig_canvas_release(&c);
				}
				rep_run_close(&r);
			}
	}
	fig_style_use(NULL);
	return t;
}

static void ink_inside(const struct fig_canvas *c, const char *where, struct tally *t)
{
	double x, y, w, h;
	cairo_surface_flush(c->surf);
	cairo_recording_surface_ink_extents(c->surf, &x, &y, &w, &h);
	if (x < EDGE_CLEAR || y < EDGE_CLEAR || x + w > c->page_w - EDGE_CLEAR ||
	    y + h > c->page_h - EDGE_CLEAR) {
		t->bad++;
		print_error("%s: ink [%.2f, %.2f] x [%.2f, %.2f] closer than %.1f pt to the edge of the "
		            "%.1f x %.1f pt page\n", where, x, x + w, y, y + h, EDGE_CLEAR, c->page_w,
		            c->page_h);
	}
	t->checked++;
}

/* Ink outside the page is what a reader never sees: a cut-off label. */
static void test_no_ink_outside(void **state)
{
	(void)state;
	struct tally t = each_drawing(ink_inside);
	assert_int_equal(t.bad, 0);
	assert_true(t.checked >= 4 * 4 * 16);
}

static void labels_apart(const struct fig_canvas *c, const char *where, struct tally *t)
{
	for (size_t i = 0; i < c->n_texts; i++) {
		if (!c->texts[i].annot)
			continue;
		t->checked++;
		for (size_t j = 0; j < c->n_texts; j++) {
			const struct fig_box *a = &c->texts[i], *b = &c->texts[j];
			/* 0.3 pt: pango's boxes include a little leading */
			if (j == i || a->x1 <= b->x0 + 0.3 || b->x1 <= a->x0 + 0.3 ||
			    a->y1 <= b->y0 + 0.3 || b->y1 <= a->y0 + 0.3)
				continue;
			t->bad++;
			print_error("%s: label %zu [%.1f, %.1f] x [%.1f, %.1f] overlaps text %zu [%.1f, "
			            "%.1f] x [%.1f, %.1f]\n", where, i, a->x0, a->x1, a->y0, a->y1, j,
			            b->x0, b->x1, b->y0, b->y1);
		}
	}
}

/* Labels placed at data points (fig_annot: F11's architecture names) and the labels of
 * reference lines never overlap one another, nor any other text of the figure. */
static void test_labels_apart(void **state)
{
	(void)state;
	struct tally t = each_drawing(labels_apart);
	assert_int_equal(t.bad, 0);
	assert_true(t.checked >= 4 * 4 * 6); /* F11's six labels in every style and seed count */
}

static void line_labels_clear(const struct fig_canvas *c, const char *where, struct tally *t)
{
	for (size_t i = 0; i < c->n_texts; i++) {
		const struct fig_box *b = &c->texts[i];
		if (b->annot != 2)
			continue;
		t->checked++;
		/* text boxes are on the page, the geometry in user space */
		if (fig_geom_meets(c, b->x0 - c->margin + 0.3, b->y0 - c->margin + 0.3,
		                   b->x1 - b->x0 - 0.6, b->y1 - b->y0 - 0.6)) {
			t->bad++;
			print_error("%s: the line label [%.1f, %.1f] x [%.1f, %.1f] lies over a data "
			            "series\n", where, b->x0, b->x1, b->y0, b->y1);
		}
	}
}

/* The label of a reference line (F4/F5's selected λ or k, F10's chosen setting) lies clear of
 * every data series' lines and markers, whatever the values (the curves often pass the top
 * corner where such a label used to sit). */
static void test_line_labels_clear_of_data(void **state)
{
	(void)state;
	struct tally t = each_drawing(line_labels_clear);
	assert_int_equal(t.bad, 0);
	assert_true(t.checked > 0);
}

static int same_pixels(cairo_surface_t *a, cairo_surface_t *b)
{
	cairo_surface_flush(a);
	cairo_surface_flush(b);
	int h = cairo_image_surface_get_height(a), stride = cairo_image_surface_get_stride(a);
	return h == cairo_image_surface_get_height(b) && stride == cairo_image_surface_get_stride(b) &&
	       !memcmp(cairo_image_surface_get_data(a), cairo_image_surface_get_data(b),
	               (size_t)h * (size_t)stride);
}

/* Every named series shows: the PNG without it differs from the PNG with it, and the final
 * drawing's own overlap check finds nothing hidden. */
static void test_every_series_visible(void **state)
{
	(void)state;
	struct fig_style st;
	assert_int_equal(fig_style_preset("screen", &st), 0);
	st.dpi = 150; /* a rim of 0.8 pt is still 1.7 pixels; the test runs 4 x faster */
	fig_style_use(&st);
	size_t checked = 0, nested = 0, bad = 0;
	for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++)
		for (size_t si = 0; si < sizeof(seed_counts) / sizeof(seed_counts[0]); si++) {
			struct rep_run r;
			make_run(&r, kinds[ki], seed_counts[si]);
			for (size_t f = 0; f < rep_nfigures; f++) {
				if (!(rep_figures[f].kinds & (1u << r.kind)))
					continue;
				struct fig_canvas full;
				if (draw_fig(&full, FIG_PNG, &r, &rep_figures[f], NULL))
					continue;
				struct fig_nested left[8];
				if (fig_overlap_resolve(&full, left, 8)) {
					bad++;
					print_error("%s, %zu seeds, %s: '%s' still hidden under %s\n",
					            rep_figures[f].id, seed_counts[si], rep_kind_name(r.kind),
					            left[0].label, left[0].over);
				}
				nested += full.n_nested;
				for (size_t s = 0; s < full.n_series; s++) {
					struct fig_canvas without;
					assert_int_equal(draw_fig(&without, FIG_PNG, &r, &rep_figures[f],
					                          full.series[s].label), 0);
					if (same_pixels(full.surf, without.surf)) {
						bad++;
						print_error("%s, %zu seeds, %s: series '%s' has no visible pixel\n",
						            rep_figures[f].id, seed_counts[si], rep_kind_name(r.kind),
						            full.series[s].label);
					}
					fig_canvas_release(&without);
					checked++;
				}
				fig_canvas_release(&full);
			}
			rep_run_close(&r);
		}
	fig_style_use(NULL);
	assert_int_equal(bad, 0);
	assert_true(checked > 100);
	assert_true(nested > 0); /* the synthetic R1 = R2 = null does need the rule */
}

/* PNG, SVG and PDF of one figure: one page size and one layout (the same marks, at the same
 * places), since one drawing function serves the three devices. */
static void test_devices_agree(void **state)
{
	(void)state;
	for (size_t st = 0; st < 2; st++) {
		use_style(st ? "paper" : "screen");
		struct rep_run r;
		make_run(&r, REP_CORE, 3);
		for (size_t f = 0; f < rep_nfigures; f++) {
			if (!(rep_figures[f].kinds & (1u << r.kind)))
				continue;
			static const enum fig_device devs[] = { FIG_PNG, FIG_SVG, FIG_PDF };
			struct fig_canvas c[3];
			char *bytes[3];
			size_t len[3];
			for (int d = 0; d < 3; d++) {
				assert_int_equal(draw_fig(&c[d], devs[d], &r, &rep_figures[f], NULL), 0);
				struct fig_mark *marks = c[d].marks;
				size_t nm = c[d].n_marks;
				c[d].marks = NULL;
				char path[] = "/tmp/husai_test_dev_XXXXXX";
				int fd = mkstemp(path);
				assert_true(fd >= 0);
				close(fd);
				struct hus_err err = { 0 };
				double pw = c[d].page_w, ph = c[d].page_h;
				assert_int_equal(fig_canvas_save(&c[d], path, &err), 0);
				fig_canvas_release(&c[d]);
				c[d].marks = marks;
				c[d].n_marks = nm;
				c[d].page_w = pw;
				c[d].page_h = ph;
				assert_int_equal(hus_read_file(path, &bytes[d], &len[d], &err), 0);
				unlink(path);
			}
			const unsigned char *png = (const unsigned char *)bytes[0];
			uint32_t pxw = (uint32_t)png[16] << 24 | (uint32_t)png[17] << 16 | (uint32_t)png[18] << 8 | png[19];
			uint32_t pxh = (uint32_t)png[20] << 24 | (uint32_t)png[21] << 16 | (uint32_t)png[22] << 8 | png[23];
			assert_int_equal(pxw, (uint32_t)ceil(c[0].page_w * FIG_DPI / 72.0));
			assert_int_equal(pxh, (uint32_t)ceil(c[0].page_h * FIG_DPI / 72.0));
			char want[96];
			snprintf(want, sizeof(want), "width=\"%gpt\" height=\"%gpt\"", c[1].page_w, c[1].page_h);
			if (!has_bytes(bytes[1], len[1], want))
				fail_msg("%s: the SVG lacks %s", rep_figures[f].id, want);
			snprintf(want, sizeof(want), "/MediaBox [ 0 0 %g %g ]", c[2].page_w, c[2].page_h);
			if (!has_bytes(bytes[2], len[2], want))
				fail_msg("%s: the PDF lacks %s", rep_figures[f].id, want);
			for (int d = 1; d < 3; d++) {
				assert_double_equal(c[d].page_w, c[0].page_w, 0);
				assert_double_equal(c[d].page_h, c[0].page_h, 0);
				assert_int_equal(c[d].n_marks, c[0].n_marks);
				for (size_t i = 0; i < c[0].n_marks; i++) {
					/* pango measures to 1/1024 pt, a little differently per surface */
					assert_double_equal(c[d].marks[i].x, c[0].marks[i].x, 0.01);
					assert_double_equal(c[d].marks[i].y, c[0].marks[i].y, 0.01);
				}
			}
			for (int d = 0; d < 3; d++) {
				free(c[d].marks);
				free(bytes[d]);
			}
		}
		rep_run_close(&r);
	}
	fig_style_use(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ink_measure),
		cmocka_unit_test(test_no_ink_outside),
		cmocka_unit_test(test_labels_apart),
		cmocka_unit_test(test_line_labels_clear_of_data),
		cmocka_unit_test(test_every_series_visible),
		cmocka_unit_test(test_devices_agree),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fig_text_shutdown();
	return rc;
}
