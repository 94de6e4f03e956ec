/*
 * test_report_template.c — the Markdown template engine (report/template.c): values with
 * printf formats and their source comments, loops (sorted, with @index and element paths),
 * conditions (truthy, numeric and word comparisons, else, nesting), standalone block lines,
 * null as "n/a" with a footnote, and errors that name the template's line:column and the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_report_util.h"

static const char *ctx_json =
	"{\"experiment\": \"phase4a\", \"trained\": {\"mean\": 0.3017164, \"n\": 10,"
	" \"ok\": true, \"bad\": false},"
	" \"fc\": {\"lo\": -0.00242, \"hi\": 0.00377},"
	" \"recs\": [{\"k\": 32, \"v\": 0.5}, {\"k\": 4, \"v\": null}, {\"k\": 8, \"v\": 0.25}],"
	" \"empty\": [], \"conclusion\": \"training_signal_present\"}";

static int setup(void **state)
{
	char path[] = "/tmp/husai_test_tmpl_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	fputs(ctx_json, f);
	fclose(f);
	hj *v;
	struct hus_err err = { 0 };
	int rc = hj_read_file(path, &v, &err);
	unlink(path);
	if (rc)
		return -1;
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	hj_free(*state);
	return 0;
}

static char *render_ok(hj *ctx, const char *tmpl)
{
	char *out = NULL;
	struct hus_err err = { 0 };
	if (rep_template_render(tmpl, "t.md", ctx, "results.json:", &out, &err)) {
		hus_err_print(&err);
		fail();
	}
	return out;
}

static void expect(hj *ctx, const char *tmpl, const char *want)
{
	char *out = render_ok(ctx, tmpl);
	assert_string_equal(out, want);
	free(out);
}

static void test_values(void **state)
{
	hj *c = *state;
	expect(c, "m={{trained.mean|%.6f}}", "m=0.301716<!-- src: results.json:trained.mean -->");
	expect(c, "n={{ trained.n }}", "n=10<!-- src: results.json:trained.n -->");
	expect(c, "n={{trained.n|%03d}}", "n=010<!-- src: results.json:trained.n -->");
	expect(c, "p={{fc.lo|%+.5f}}", "p=-0.00242<!-- src: results.json:fc.lo -->");
	expect(c, "{{experiment}} {{trained.ok}}/{{trained.bad}}", "phase4a yes/no");
}

static void test_each(void **state)
{
	hj *c = *state;
	expect(c, "{{#each recs}}{{k}},{{/each}}",
	       "32<!-- src: results.json:recs.0.k -->,4<!-- src: results.json:recs.1.k -->,"
	       "8<!-- src: results.json:recs.2.k -->,");
	char *out = render_ok(c, "{{#each recs by k}}{{@index}}:{{k|%d}} {{/each}}");
	/* sorted by k, each keeping its position in the list and its own source path */
	assert_non_null(strstr(out, "1:4<!-- src: results.json:recs.1.k --> 2:8"));
	assert_true(strstr(out, "1:4") < strstr(out, "0:32"));
	free(out);
	/* keys resolve in the element first, then outwards */
	expect(c, "{{#each recs by k}}{{experiment}}{{/each}}", "phase4aphase4aphase4a");
	expect(c, "[{{#each empty}}x{{/each}}]", "[]");
}

static void test_standalone_lines(void **state)
{
	hj *c = *state;
	expect(c, "| k |\n|---|\n{{#each recs by k}}\n| {{k|%d}} |\n{{/each}}\nend\n",
	       "| k |\n|---|\n| 4<!-- src: results.json:recs.1.k --> |\n"
	       "| 8<!-- src: results.json:recs.2.k --> |\n| 32<!-- src: results.json:recs.0.k --> |\nend\n");
	expect(c, "a\n  {{#if trained.ok}}  \nb\n{{/if}}\nc", "a\nb\nc");
}

static void test_conditions(void **state)
{
	hj *c = *state;
	expect(c, "{{#if fc.lo > 0}}resolved{{else}}{{#if fc.hi < 0}}negative{{else}}spans 0{{/if}}{{/if}}",
	       "spans 0");
	expect(c, "{{#if fc.hi > fc.lo}}y{{/if}}", "y");
	expect(c, "{{#if trained.n >= 10}}y{{else}}n{{/if}}", "y");
	expect(c, "{{#if trained.n != 10}}y{{else}}n{{/if}}", "n");
	expect(c, "{{#if conclusion == training_signal_present}}sig{{/if}}", "sig");
	expect(c, "{{#if conclusion != training_signal_present}}sig{{/if}}", "");
	expect(c, "{{#if missing.key}}x{{else}}absent{{/if}}", "absent");
	expect(c, "{{#if missing.key > 0}}x{{else}}no{{/if}}", "no");
	expect(c, "{{#if trained.bad}}x{{else}}false{{/if}}", "false");
	expect(c, "{{#if empty}}x{{else}}empty{{/if}}", "empty");
	expect(c, "{{#if recs.1.v > 0}}x{{else}}null is no number{{/if}}", "null is no number");
}

static void test_null_is_na(void **state)
{
	hj *c = *state;
	char *out = render_ok(c, "v={{recs.1.v|%.4f}}\n");
	assert_non_null(strstr(out, "v=n/a[^nan]<!-- src: results.json:recs.1.v -->"));
	assert_non_null(strstr(out, "\n[^nan]: n/a: the value is NaN (null in results.json)"));
	assert_null(strstr(out, "0.0000"));
	free(out);
	out = render_ok(c, "v={{recs.0.v|%.4f}}\n");
	assert_null(strstr(out, "[^nan]")); /* no footnote when nothing was null */
	free(out);
}

static void expect_err(hj *ctx, const char *tmpl, const char *where, const char *msg_part)
{
	char *out = NULL;
	struct hus_err err = { 0 };
	assert_int_equal(rep_template_render(tmpl, "t.md", ctx, "results.json:", &out, &err),
	                 HUS_EINPUT);
	assert_null(out);
	assert_string_equal(err.file, "t.md");
	assert_string_equal(err.where, where);
	if (!strstr(err.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
}

static void test_errors(void **state)
{
	hj *c = *state;
	expect_err(c, "line\n  x {{trained.median}}", "2:5", "'trained.median' not found");
	expect_err(c, "{{#each recs}}x", "1:1", "never closed");
	expect_err(c, "{{#if fc.lo > 0}}x{{/each}}", "1:19", "expected {{/if}}");
	expect_err(c, "{{trained.mean|%s%d}}", "1:1", "bad format");
	expect_err(c, "{{trained}}", "1:1", "object or list");
	expect_err(c, "{{#each trained}}{{/each}}", "1:1", "not a list");
	expect_err(c, "{{/if}}", "1:1", "unexpected");
	expect_err(c, "{{#if fc.lo ~ 0}}{{/if}}", "1:1", "unknown operator");
	expect_err(c, "abc {{unclosed", "1:5", "unclosed");
}

/* Random token soup: the engine must answer 0 or HUS_EINPUT, never crash or leak (ASan). */
static void test_token_soup(void **state)
{
	hj *c = *state;
	static const char *const tok[] = { "{{", "}}", "#if ", "#each ", "/if", "/each", "else",
		                           "recs", "trained.mean", " by k", " > 0", "|%.3f", "\n",
		                           " ", "x", "{{#if trained.ok}}", "{{/if}}", "{{@index}}",
		                           "{{#each recs}}", "{{/each}}", "{", "}", "|" };
	const size_t ntok = sizeof(tok) / sizeof(tok[0]);
	struct mt19937 g;
	mt_seed(&g, 2026);
	char buf[512];
	int ok = 0;
	for (int it = 0; it < 3000; it++) {
		size_t len = 0, n = 1 + mt_next32(&g) % 24;
		buf[0] = 0;
		for (size_t i = 0; i < n; i++) {
			const char *t = tok[mt_next32(&g) % ntok];
			if (len + strlen(t) + 1 >= sizeof(buf))
				break;
			memcpy(buf + len, t, strlen(t) + 1);
			len += strlen(t);
		}
		char *out = NULL;
		struct hus_err err = { 0 };
		int rc = rep_template_render(buf, "soup.md", c, "r:", &out, &err);
		if (rc != 0 && rc != HUS_EINPUT)
			fail_msg("template '%s' gave %d", buf, rc);
		if (rc == 0) {
			assert_non_null(out);
			ok++;
		}
		else
			assert_true(err.where[0] != 0);
		free(out);
	}
	assert_true(ok > 100 && ok < 2900); /* the soup exercises both outcomes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),     cmocka_unit_test(test_each),
		cmocka_unit_test(test_standalone_lines), cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_null_is_na), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_token_soup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
