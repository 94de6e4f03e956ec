/*
 * test_plot.c — the plotting layer's pure parts: nice ticks (1/2/5 x 10^n, 3-7 intervals,
 * label precision), log2 ticks, the data -> device transform (zero-width ranges, non-finite
 * and log-of-nonpositive input), SVG id normalisation, the PNG pHYs chunk, and a canvas
 * round trip per device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "test_report_util.h"

static double step_of(const struct fig_ticks *t) { return t->v[1] - t->v[0]; }

static int is_nice(double step)
{
	double e = floor(log10(step) + 1e-9), m = step / pow(10, e);
	return fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6;
}

static void test_ticks_linear(void **state)
{
	(void)state;
	static const double ranges[][2] = { { 0.2981, 0.3025 }, { 0, 1 }, { -0.00242, 0.00377 },
		                            { 12, 1013 }, { 0.35817, 0.35968 }, { -5, -4.999 } };
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		double lo = ranges[i][0], hi = ranges[i][1];
		struct fig_ticks t;
		fig_ticks_linear(&lo, &hi, &t);
		assert_true(t.n >= 4 && t.n <= 8); /* 3-7 intervals */
		assert_true(is_nice(step_of(&t)));
		assert_true(lo <= ranges[i][0] + 1e-12 && hi >= ranges[i][1] - 1e-12);
		assert_double_equal(t.v[0], lo, 1e-12);
		assert_double_equal(t.v[t.n - 1], hi, 1e-12);
	}
	double lo = 0.2981, hi = 0.3025;
	struct fig_ticks t;
	fig_ticks_linear(&lo, &hi, &t);
	assert_double_equal(step_of(&t), 0.001, 1e-12);
	assert_string_equal(t.label[0], "0.298");
	lo = -1;
	hi = 1;
	fig_ticks_linear(&lo, &hi, &t);
	int has_zero = 0;
	for (size_t i = 0; i < t.n; i++)
		has_zero |= !strcmp(t.label[i], "0.0") || !strcmp(t.label[i], "0");
	assert_true(has_zero); /* never "-0.0" */
	lo = hi = 0.3; /* zero width */
	fig_ticks_linear(&lo, &hi, &t);
	assert_true(hi > lo && t.n >= 2);
}

static void test_ticks_log2(void **state)
{
	(void)state;
	double lo = 8, hi = 64;
	struct fig_ticks t;
	fig_ticks_log2(&lo, &hi, &t);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.label[0], "8");
	assert_string_equal(t.label[3], "64");
	lo = 3;
	hi = 100;
	fig_ticks_log2(&lo, &hi, &t);
	assert_double_equal(lo, 2, 0);
	assert_double_equal(hi, 128, 0);
}

static void test_scale(void **state)
{
	(void)state;
	struct fig_scale s;
	fig_scale_set(&s, 0.25, 0.30, 0);
	s.d0 = 100;
	s.d1 = 20; /* y grows downwards */
	assert_double_equal(fig_map(&s, 0.25), 100, 1e-12);
	assert_double_equal(fig_map(&s, 0.30), 20, 1e-9);
	assert_double_equal(fig_unmap(&s, fig_map(&s, 0.2731)), 0.2731, 1e-12);
	assert_true(isnan(fig_map(&s, NAN)));
	assert_true(isnan(fig_map(&s, INFINITY)));
	fig_scale_set(&s, 4, 64, 1);
	s.d0 = 0;
	s.d1 = 40;
	assert_double_equal(fig_map(&s, 16), 20, 1e-12);
	assert_true(isnan(fig_map(&s, 0)));
	assert_true(isnan(fig_map(&s, -2)));
	fig_scale_set(&s, 0.3, 0.3, 0); /* zero width: widened, finite */
	s.d0 = 0;
	s.d1 = 1;
	assert_true(s.hi > s.lo);
	assert_double_equal(fig_map(&s, 0.3), 0.5, 1e-12);
}

static void test_svg_normalise(void **state)
{
	(void)state;
	const char *a = "<g id=\"surface57\"><use xlink:href=\"#glyph3-1\"/><symbol id=\"glyph3-1\"/>"
	                "<clipPath id=\"clip9\"/><g clip-path=\"url(#clip9)\"/></g>";
	const char *b = "<g id=\"surface2\"><use xlink:href=\"#glyph0-1\"/><symbol id=\"glyph0-1\"/>"
	                "<clipPath id=\"clip1\"/><g clip-path=\"url(#clip1)\"/></g>";
	unsigned char *oa, *ob;
	size_t na, nb;
	assert_int_equal(fig_svg_normalise((const unsigned char *)a, strlen(a), &oa, &na), 0);
	assert_int_equal(fig_svg_normalise((const unsigned char *)b, strlen(b), &ob, &nb), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(oa, ob, na);
	char *s = strndup((char *)oa, na);
	assert_non_null(strstr(s, "url(#clip3)"));  /* references follow their definition */
	assert_non_null(strstr(s, "href=\"#glyph2\""));
	assert_null(strstr(s, "surface57"));
	free(s);
	free(oa);
	free(ob);
}

static uint32_t crc(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_canvas_devices(void **state)
{
	(void)state;
	char dir[] = "/tmp/husai_test_plot_XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const enum fig_device devs[] = { FIG_PNG, FIG_SVG, FIG_PDF };
	static const char *const ext[] = { "png", "svg", "pdf" };
	for (int d = 0; d < 3; d++) {
		struct fig_canvas c;
		struct hus_err err = { 0 };
		assert_int_equal(fig_canvas_open(&c, devs[d], 100, 50, "2026-02-12T14:55:29+00:00", &err), 0);
		struct fig_scale xs, ys;
		fig_scale_set(&xs, 0, 1, 0);
		fig_scale_set(&ys, 0, 1, 0);
		xs.d0 = 10, xs.d1 = 90, ys.d0 = 40, ys.d1 = 10;
		double x[3] = { 0.25, NAN, 0.75 }, y[3] = { 0.5, 0.5, 0.5 };
		fig_markers(&c, &xs, &ys, x, y, 3, FIG_BLUE, 7);
		fig_line(&c, &xs, &ys, x, y, 3, FIG_BLUE, 0);
		assert_int_equal(c.n_marks, 2);
		assert_int_equal(c.n_nonfinite, 2); /* the NaN is skipped by both */
		assert_double_equal(c.marks[1].x, 70 + FIG_MARGIN, 1e-12); /* on the page */
		char path[128];
		snprintf(path, sizeof(path), "%s/c.%s", dir, ext[d]);
		assert_int_equal(fig_canvas_save(&c, path, &err), 0);
		fig_canvas_release(&c);
		char *buf;
		size_t n;
		assert_int_equal(hus_read_file(path, &buf, &n, &err), 0);
		if (devs[d] == FIG_PNG) {
			const unsigned char *u = (const unsigned char *)buf;
			assert_int_equal(be32(u + 16), (uint32_t)ceil(100 * 300 / 72.0));
			assert_int_equal(be32(u + 20), (uint32_t)ceil(50 * 300 / 72.0));
			assert_memory_equal(u + 37, "pHYs", 4);
			assert_int_equal(be32(u + 41), 11811); /* 300 dpi in pixels per metre */
			assert_int_equal(be32(u + 50), crc(u + 37, 13));
		} else if (devs[d] == FIG_SVG) {
			assert_non_null(strstr(buf, "width=\"100pt\""));
		} else {
			assert_true(has_bytes(buf, n, "/CreationDate (20260212145529"));
		}
		free(buf);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticks_linear), cmocka_unit_test(test_ticks_log2),
		cmocka_unit_test(test_scale), cmocka_unit_test(test_svg_normalise),
		cmocka_unit_test(test_canvas_devices),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fig_text_shutdown();
	return rc;
}
