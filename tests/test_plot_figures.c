/*
 * test_plot_figures.c — every figure drawn from the fixture run directories
 * (tests/fixtures/report/runs): PNG size at 300 dpi and data pixels that differ from the
 * background where markers must be; the SVG parsed back, each data marker found as its own
 * path whose centre maps through the figure's transform to the value in results.json; the
 * plotted values checked against the fixture's numbers; NaN (null) values left as gaps.
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

#define RUNS HUSAI_FIXTURES "/report/runs"

static const struct rep_figure *figure(const char *id)
{
	for (size_t i = 0; i < rep_nfigures; i++)
		if (!strcmp(rep_figures[i].id, id))
			return &rep_figures[i];
	fail_msg("no figure %s", id);
	return NULL;
}

static void open_run(struct rep_run *r, const char *name)
{
	struct hus_err err = { 0 };
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", RUNS, name);
	if (rep_run_open(r, dir, 0, &err)) {
		hus_err_print(&err);
		fail();
	}
}

/* Draw figure `id` of run on a fresh canvas of the device; returns the draw status. */
static int draw(struct fig_canvas *c, enum fig_device dev, const struct rep_run *r, const char *id)
{
	const struct rep_figure *f = figure(id);
	double w, h;
	rep_figure_size(f, r, &w, &h);
	struct hus_err err = { 0 };
	assert_int_equal(fig_canvas_open(c, dev, w, h, r->date, &err), 0);
	char skip[256] = "";
	int rc = f->draw(c, r, skip, sizeof(skip), &err);
	if (rc < 0)
		hus_err_print(&err);
	return rc;
}

static uint32_t pixel(cairo_surface_t *s, double x_pt, double y_pt)
{
	int px = (int)floor(x_pt * FIG_DPI / 72.0), py = (int)floor(y_pt * FIG_DPI / 72.0);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	assert_true(px >= 0 && py >= 0 && px < w && py < h);
	const unsigned char *d = cairo_image_surface_get_data(s);
	return *(const uint32_t *)(d + (size_t)py * cairo_image_surface_get_stride(s) + (size_t)px * 4);
}

static size_t count_colour(cairo_surface_t *s, int colour)
{
	struct fig_rgb c = fig_colour(colour);
	uint32_t want = 0xff000000u | (uint32_t)lround(c.r * 255) << 16 |
	                (uint32_t)lround(c.g * 255) << 8 | (uint32_t)lround(c.b * 255);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	size_t n = 0;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			n += *(const uint32_t *)(d + (size_t)y * cairo_image_surface_get_stride(s) + x * 4) == want;
	return n;
}

/* PNG: size, and every logged marker sits on a non-background pixel. */
static void check_png(const struct rep_run *r, const char *id, size_t *nmarks)
{
	struct fig_canvas c;
	assert_int_equal(draw(&c, FIG_PNG, r, id), 0);
	cairo_surface_flush(c.surf);
	assert_int_equal(cairo_image_surface_get_width(c.surf), (int)ceil(c.page_w * FIG_DPI / 72.0));
	assert_int_equal(cairo_image_surface_get_height(c.surf), (int)ceil(c.page_h * FIG_DPI / 72.0));
	assert_int_equal(pixel(c.surf, 0.5, c.page_h - 0.5), 0xffffffffu); /* white background corner */
	for (size_t i = 0; i < c.n_marks; i++)
		if (pixel(c.surf, c.marks[i].x, c.marks[i].y) == 0xffffffffu)
			fail_msg("%s: marker %zu (series %d) at (%g, %g) is on background", id, i,
			         c.marks[i].series, c.marks[i].x, c.marks[i].y);
	*nmarks = c.n_marks;
	fig_canvas_release(&c);
}

struct box {
	double cx, cy, w, h;
};

/* Every path's bounding box in an SVG document. */
static size_t svg_paths(const char *svg, struct box *b, size_t cap)
{
	size_t n = 0;
	for (const char *p = strstr(svg, " d=\""); p && n < cap; p = strstr(p, " d=\"")) {
		p += 4;
		const char *e = strchr(p, '"');
		double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
		int k = 0;
		while (p < e) {
			if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '.') {
				char *end;
				double v = strtod(p, &end);
				lo[k] = fmin(lo[k], v);
				hi[k] = fmax(hi[k], v);
				k ^= 1;
				p = end;
			} else {
				p++;
			}
		}
		b[n++] = (struct box){ (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[0] - lo[0],
			               hi[1] - lo[1] };
	}
	return n;
}

/* SVG: each data marker is a marker-sized path at its logged place, and its centre maps
 * back through the logged transform to the data value. */
static void check_svg(const struct rep_run *r, const char *id, struct fig_canvas *keep)
{
	struct fig_canvas c;
	assert_int_equal(draw(&c, FIG_SVG, r, id), 0);
	struct fig_mark *marks = c.marks;
	size_t nm = c.n_marks;
	c.marks = NULL;
	struct hus_err err = { 0 };
	char path[] = "/tmp/husai_test_fig_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fig_canvas_save(&c, path, &err), 0);
	fig_canvas_release(&c);
	char *svg;
	size_t n;
	assert_int_equal(hus_read_file(path, &svg, &n, &err), 0);
	unlink(path);
	struct box *b = malloc(20000 * sizeof(*b));
	size_t nb = svg_paths(svg, b, 20000);
	for (size_t i = 0; i < nm; i++) {
		const struct fig_mark *m = &marks[i];
		if (isnan(m->dy))
			continue; /* heatmap cells: checked in PNG */
		size_t j;
		for (j = 0; j < nb; j++)
			/* cairo writes a circle as two Béziers: the box of the points is 2r across one
			 * way and 2r * 4/3 (the control points) the other */
			if (fabs(b[j].cx - m->x) < 0.01 && fabs(b[j].cy - m->y) < 0.01 &&
			    fabs(fmin(b[j].w, b[j].h) - 2 * FIG_MARKER_R) < 0.05 &&
			    fmax(b[j].w, b[j].h) < 2 * FIG_MARKER_R * 4 / 3 + 0.05)
				break;
		if (j == nb)
			fail_msg("%s: marker %zu (series %d) at (%g, %g) not found in the SVG", id, i,
			         m->series, m->x, m->y);
		double ytol = 0.01 * fabs(m->ys.hi - m->ys.lo) / fabs(m->ys.d1 - m->ys.d0);
		/* the SVG is in page coordinates, the scales in the margin's user space */
		assert_double_equal(fig_unmap(&m->ys, b[j].cy - FIG_MARGIN), m->dy, ytol);
		if (!m->xs.log2) {
			double xtol = 0.01 * fabs(m->xs.hi - m->xs.lo) / fabs(m->xs.d1 - m->xs.d0);
			assert_double_equal(fig_unmap(&m->xs, b[j].cx - FIG_MARGIN), m->dx, xtol);
		} else {
			assert_double_equal(log2(fig_unmap(&m->xs, b[j].cx - FIG_MARGIN)), log2(m->dx), 1e-3);
		}
	}
	free(b);
	free(svg);
	if (keep) {
		keep->marks = marks;
		keep->n_marks = nm;
	} else {
		free(marks);
	}
}

static size_t series(const struct fig_canvas *c, int s, double *dx, double *dy)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_marks; i++)
		if (c->marks[i].series == s) {
			if (dx)
				dx[n] = c->marks[i].dx;
			if (dy)
				dy[n] = c->marks[i].dy;
			n++;
		}
	return n;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_f1_phase4a(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "phase4a");
	size_t nm;
	check_png(&r, "F1", &nm);
	assert_int_equal(nm, 3 + 30); /* 3 means, 3 x 10 pairwise points */
	struct fig_canvas c = { 0 };
	check_svg(&r, "F1", &c);
	/* the plotted pairwise values are exactly trained.pwmcc_values */
	double v[16], want[16], mean = NAN;
	assert_int_equal(series(&c, 10, NULL, v), 10);
	hj *tv = hj_get(r.res, "trained.pwmcc_values");
	for (size_t i = 0; i < 10; i++)
		want[i] = hj_as_f64(hj_at(tv, i));
	qsort(v, 10, sizeof(double), cmpd);
	qsort(want, 10, sizeof(double), cmpd);
	for (size_t i = 0; i < 10; i++)
		assert_double_equal(v[i], want[i], 0);
	assert_int_equal(series(&c, 0, NULL, &mean), 1);
	double tm = 0;
	assert_int_equal(hj_get_f64(r.res, "trained.mean", &tm), 0);
	assert_double_equal(mean, tm, 0);
	assert_int_equal(series(&c, 2, NULL, &mean), 1); /* R2 drawn */
	free(c.marks);
	rep_run_close(&r);
}

static void test_f2_f3_core(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "core");
	size_t nm;
	check_png(&r, "F2", &nm);
	assert_int_equal(nm, 16); /* trained, random, R2, EV x 4 k values */
	check_png(&r, "F3", &nm);
	struct fig_canvas c = { 0 };
	check_svg(&r, "F2", &c);
	double x[8], y[8];
	assert_int_equal(series(&c, 0, x, y), 4);
	for (size_t i = 0; i < 4; i++) { /* in k order, values of k_sweep records */
		char key[64];
		double k, m;
		snprintf(key, sizeof(key), "k_sweep.%zu.k", i);
		assert_int_equal(hj_get_f64(r.res, key, &k), 0);
		snprintf(key, sizeof(key), "k_sweep.%zu.trained_pwmcc.mean", i);
		assert_int_equal(hj_get_f64(r.res, key, &m), 0);
		assert_double_equal(x[i], k, 0);
		assert_double_equal(y[i], m, 0);
	}
	assert_int_equal(series(&c, 3, NULL, y), 4); /* EV on the second axis */
	free(c.marks);
	check_svg(&r, "F3", NULL);
	for (int i = 6; i <= 9; i++) {
		char id[16];
		snprintf(id, sizeof(id), "F%d", i);
		if (i == 6 || i == 7) {
			check_png(&r, id, &nm);
			assert_true(nm > 0);
			check_svg(&r, id, NULL);
		} else { /* line-only figures: the series colours are on the canvas */
			struct fig_canvas p;
			assert_int_equal(draw(&p, FIG_PNG, &r, id), 0);
			cairo_surface_flush(p.surf);
			assert_true(count_colour(p.surf, FIG_BLUE) > 200);
			assert_true(count_colour(p.surf, FIG_VERMILION) > 200);
			fig_canvas_release(&p);
		}
	}
	rep_run_close(&r);
}

static void test_f4_adaptive(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "adaptive");
	size_t nm;
	check_png(&r, "F4", &nm);
	assert_int_equal(nm, 4 * 8);
	struct fig_canvas c = { 0 };
	check_svg(&r, "F4", &c);
	double y[8];
	assert_int_equal(series(&c, 2, NULL, y), 8);
	double lcb;
	assert_int_equal(hj_get_f64(r.res, "search_records.0.delta_pwmcc_ci_low_conservative", &lcb), 0);
	assert_double_equal(y[0], lcb, 0); /* k = 4 is first */
	free(c.marks);
	check_png(&r, "F9", &nm);
	rep_run_close(&r);
}

static void test_f5_consistency(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "consistency");
	size_t nm;
	check_png(&r, "F5", &nm);
	assert_int_equal(nm, 4 * 5);
	check_svg(&r, "F5", NULL);
	check_png(&r, "F6", &nm);
	assert_int_equal(nm, 5 * 20); /* 5 conditions x 5x5 off-diagonal cells */
	check_png(&r, "F7", &nm);
	check_svg(&r, "F7", NULL);
	rep_run_close(&r);
}

static void test_nan_gaps(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "core_nan");
	struct fig_canvas c;
	assert_int_equal(draw(&c, FIG_SVG, &r, "F2"), 0);
	assert_int_equal(series(&c, 0, NULL, NULL), 3); /* the null mean is not drawn ... */
	assert_true(c.n_nonfinite > 0);                  /* ... but counted */
	for (size_t i = 0; i < c.n_marks; i++)
		assert_true(isfinite(c.marks[i].x) && isfinite(c.marks[i].y));
	fig_canvas_release(&c);
	assert_int_equal(draw(&c, FIG_PNG, &r, "F3"), 0);
	assert_int_equal(series(&c, 3, NULL, NULL), 3); /* EV null at d_sae = 256 */
	fig_canvas_release(&c);
	/* the renderer counts distinct null values per figure and names them */
	char dir[] = "/tmp/husai_test_nan_XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct rep_fig_result res[REP_MAX_FIGS];
	size_t nres;
	struct hus_err err = { 0 };
	assert_int_equal(rep_figures_render(&r, dir, FIG_SVG, res, &nres, &err), 0);
	int seen = 0;
	for (size_t i = 0; i < nres; i++) {
		if (!strcmp(res[i].id, "F2")) {
			assert_int_equal(res[i].n_nonfinite, 1); /* drawn by line and marker, one value */
			assert_string_equal(res[i].null_paths, "k_sweep.1.trained_pwmcc.mean");
			seen++;
		} else if (!strcmp(res[i].id, "F7")) {
			assert_int_equal(res[i].n_nonfinite, 2);
			seen++;
		}
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/%s.svg", dir, res[i].path);
		unlink(path);
	}
	assert_int_equal(seen, 2);
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/core_ablations/figures", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/core_ablations", dir);
	rmdir(sub);
	rmdir(dir);
	rep_run_close(&r);
}

static void test_not_applicable(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "phase4a");
	struct fig_canvas c;
	assert_int_equal(draw(&c, FIG_SVG, &r, "F8"), 1); /* no training_curves: skipped */
	fig_canvas_release(&c);
	rep_run_close(&r);
}

/* a fake run (no schema check; defined below) */
static void fake_run(struct rep_run *r, enum rep_kind kind, const char *json);

/* the wrong type is refused when the run is opened (the schema, formats/results_schema.c),
 * and by F1 itself when it is handed such a run anyway */
static void test_bad_type_names_key(void **state)
{
	(void)state;
	struct rep_run r;
	struct hus_err err = { 0 };
	assert_int_equal(rep_run_open(&r, RUNS "/bad_type", 0, &err), HUS_EINPUT);
	assert_string_equal(err.where, "trained.mean");
	assert_non_null(strstr(err.file, "bad_type/results.json"));
	assert_non_null(strstr(err.msg, "expected a number or null"));
	char *json = NULL;
	size_t n;
	assert_int_equal(hus_read_file(RUNS "/bad_type/results.json", &json, &n, &err), 0);
	fake_run(&r, REP_PHASE4A, json);
	free(json);
	struct fig_canvas c;
	memset(&err, 0, sizeof(err));
	assert_int_equal(fig_canvas_open(&c, FIG_SVG, 100, 100, NULL, &err), 0);
	char skip[64];
	assert_int_equal(fig_f1_draw(&c, &r, skip, sizeof(skip), &err), HUS_EINPUT);
	assert_string_equal(err.where, "trained.mean");
	fig_canvas_release(&c);
	rep_run_close(&r);
}

static void test_run_open_errors(void **state)
{
	(void)state;
	struct rep_run r;
	struct hus_err err = { 0 };
	assert_int_equal(rep_run_open(&r, RUNS "/bad_kind", 0, &err), HUS_EINPUT);
	assert_string_equal(err.where, "experiment");
	assert_non_null(strstr(err.msg, "phase9z"));
	assert_int_equal(rep_run_open(&r, RUNS "/bad_json", 0, &err), HUS_EINPUT);
	assert_non_null(strstr(err.file, "bad_json/results.json"));
	assert_true(strchr(err.where, ':') != NULL); /* line:column */
	assert_int_equal(rep_run_open(&r, RUNS "/does_not_exist", 0, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "manifest"));
}

/* A run built from a JSON string (no manifest: these test the figure's own strictness). */
static void fake_run(struct rep_run *r, enum rep_kind kind, const char *json)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->results_path, sizeof(r->results_path), "/tmp/husai_test_bad_XXXXXX");
	int fd = mkstemp(r->results_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	struct hus_err err = { 0 };
	assert_int_equal(hj_read_file(r->results_path, &r->res, &err), 0);
	unlink(r->results_path);
	r->kind = kind;
	snprintf(r->name, sizeof(r->name), "%s", rep_kind_name(kind));
}

static void expect_draw_error(enum rep_kind kind, const char *id, const char *json,
                              const char *where, const char *msg_part)
{
	struct rep_run r;
	fake_run(&r, kind, json);
	struct fig_canvas c;
	struct hus_err err = { 0 };
	assert_int_equal(fig_canvas_open(&c, FIG_SVG, 200, 200, NULL, &err), 0);
	char skip[256] = "";
	int rc = figure(id)->draw(&c, &r, skip, sizeof(skip), &err);
	if (rc != HUS_EINPUT)
		fail_msg("%s: expected an input error at '%s', got %d (%s)", id, where, rc, skip);
	assert_string_equal(err.where, where);
	if (!strstr(err.msg, msg_part))
		fail_msg("%s: message '%s' lacks '%s'", id, err.msg, msg_part);
	fig_canvas_release(&c);
	rep_run_close(&r);
}

static void test_malformed_parts(void **state)
{
	(void)state;
	expect_draw_error(REP_CORE, "F2", "{\"k_sweep\": 3}", "k_sweep", "list of records");
	expect_draw_error(REP_CORE, "F2", "{\"k_sweep\": [7]}", "k_sweep", "record object");
	expect_draw_error(REP_CORE, "F2", "{\"k_sweep\": [{\"k\": 8}]}", "k_sweep.0.trained_pwmcc",
	                  "missing required key");
	expect_draw_error(REP_CORE, "F2",
	                  "{\"k_sweep\": [{\"k\": \"8\", \"trained_pwmcc\": {}}]}", "k_sweep.0.k",
	                  "expected a number");
	expect_draw_error(REP_CORE, "F2",
	                  "{\"k_sweep\": [{\"k\": 8, \"trained_pwmcc\": {\"mean\": 0.3, "
	                  "\"ci95_low\": 0.2}}]}",
	                  "k_sweep.0.trained_pwmcc.ci95_high", "missing required key");
	expect_draw_error(REP_ADAPTIVE, "F4", "{}", "search_records", "missing required key");
	expect_draw_error(REP_CONSISTENCY, "F5", "{\"records\": {}}", "records", "list of records");
	expect_draw_error(REP_PHASE4A, "F1",
	                  "{\"trained\": {\"mean\": 0.3, \"ci95_low\": 0.2, \"ci95_high\": 0.4, "
	                  "\"pwmcc_values\": [0.3, \"x\"]}, \"random\": {}}",
	                  "trained.pwmcc_values", "element 1");
	expect_draw_error(REP_PHASE4A, "F6", "{\"trained\": {\"pairwise\": [{\"seed_a\": 1}]}}",
	                  "trained.pairwise", "seed_b");
	expect_draw_error(REP_CORE, "F8",
	                  "{\"training_curves\": {\"c/1\": {\"step\": [0, 1], \"mse\": [1]}}}",
	                  "training_curves.c/1.mse", "one per step");
	expect_draw_error(REP_CORE, "F8", "{\"training_curves\": {\"c/1\": {\"mse\": [1]}}}",
	                  "training_curves.c/1.step", "missing required key");
	expect_draw_error(REP_CORE, "F9", "{\"per_feature_stability\": {\"c\": {\"control\": []}}}",
	                  "per_feature_stability.c.trained", "missing required key");
	/* optional parts absent: skipped with a reason, not an error */
	struct rep_run r;
	fake_run(&r, REP_CORE, "{\"k_sweep\": []}");
	struct fig_canvas c;
	struct hus_err err = { 0 };
	char skip[256] = "";
	assert_int_equal(fig_canvas_open(&c, FIG_SVG, 200, 200, NULL, &err), 0);
	assert_int_equal(fig_f2_draw(&c, &r, skip, sizeof(skip), &err), 1);
	assert_non_null(strstr(skip, "k_sweep"));
	assert_int_equal(fig_f7_draw(&c, &r, skip, sizeof(skip), &err), 1);
	assert_int_equal(fig_f9_draw(&c, &r, skip, sizeof(skip), &err), 1);
	fig_canvas_release(&c);
	rep_run_close(&r);
}

static void test_svg_deterministic(void **state)
{
	(void)state;
	struct rep_run r;
	open_run(&r, "core");
	char *out[2];
	size_t n[2];
	for (int k = 0; k < 2; k++) { /* the second rendering follows other figures */
		if (k == 1) {
			struct fig_canvas o;
			assert_int_equal(draw(&o, FIG_SVG, &r, "F8"), 0);
			fig_canvas_release(&o);
		}
		struct fig_canvas c;
		assert_int_equal(draw(&c, FIG_SVG, &r, "F2"), 0);
		char path[] = "/tmp/husai_test_det_XXXXXX";
		int fd = mkstemp(path);
		close(fd);
		struct hus_err err = { 0 };
		assert_int_equal(fig_canvas_save(&c, path, &err), 0);
		fig_canvas_release(&c);
		assert_int_equal(hus_read_file(path, &out[k], &n[k], &err), 0);
		unlink(path);
	}
	assert_int_equal(n[0], n[1]);
	assert_memory_equal(out[0], out[1], n[0]);
	free(out[0]);
	free(out[1]);
	rep_run_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_f1_phase4a),       cmocka_unit_test(test_f2_f3_core),
		cmocka_unit_test(test_f4_adaptive),      cmocka_unit_test(test_f5_consistency),
		cmocka_unit_test(test_nan_gaps),         cmocka_unit_test(test_not_applicable),
		cmocka_unit_test(test_bad_type_names_key), cmocka_unit_test(test_run_open_errors),
		cmocka_unit_test(test_svg_deterministic), cmocka_unit_test(test_malformed_parts),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fig_text_shutdown();
	return rc;
}
