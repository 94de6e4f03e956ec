/*
 * test_config.c — YAML configs: typed getters and defaults, `1e-3` as a number, errors with the
 * right line:column, unknown keys with a "did you mean", --set overrides recorded in the
 * resolved config, and the config hash (paths never enter it, parameters and inputs do).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"

static const char *sample =
	"# a comment\n"
	"sae:\n"
	"  k: 32\n"
	"  lr: 1e-3\n"
	"  l1: 3e-4\n"
	"  decay: 0.001\n"
	"  architecture: topk\n"
	"  seeds: [42, 123, 456]\n"
	"  lambdas:\n"
	"    - 0.0\n"
	"    - 1e-4\n"
	"  drop_last: false\n"
	"out: artifacts/x\n";

static struct cfg *load(const char *text)
{
	struct cfg *c = NULL;
	struct hus_err err = { 0 };
	if (cfg_load_string(&c, text, "t.yaml", &err))
		fail_msg("load failed: %s: %s", err.where, err.msg);
	return c;
}

static void read_all(struct cfg *c)
{
	struct hus_err err = { 0 };
	int64_t k;
	double lr, l1, decay;
	const char *arch, *out;
	int64_t *seeds;
	double *lambdas;
	size_t ns, nl;
	int drop;
	assert_int_equal(cfg_int(c, "sae.k", 8, 1, 4096, &k, &err), 0);
	assert_int_equal(cfg_f64(c, "sae.lr", 0, &lr, &err), 0);
	assert_int_equal(cfg_f64(c, "sae.l1", 0, &l1, &err), 0);
	assert_int_equal(cfg_f64(c, "sae.decay", 0, &decay, &err), 0);
	static const char *const archs[] = { "topk", "relu", NULL };
	assert_int_equal(cfg_str(c, "sae.architecture", "relu", archs, &arch, &err), 0);
	assert_int_equal(cfg_int_list(c, "sae.seeds", NULL, 0, &seeds, &ns, &err), 0);
	assert_int_equal(cfg_f64_list(c, "sae.lambdas", NULL, 0, &lambdas, &nl, &err), 0);
	assert_int_equal(cfg_bool(c, "sae.drop_last", 1, &drop, &err), 0);
	assert_int_equal(cfg_path(c, "out", "artifacts", &out, &err), 0);
	free(seeds);
	free(lambdas);
}

static void test_typed_getters(void **state)
{
	(void)state;
	struct cfg *c = load(sample);
	struct hus_err err = { 0 };
	int64_t k, def;
	double lr, l1, decay, missing;
	assert_int_equal(cfg_int(c, "sae.k", 8, 1, 4096, &k, &err), 0);
	assert_int_equal(k, 32);
	assert_int_equal(cfg_f64(c, "sae.lr", 0, &lr, &err), 0);
	assert_true(lr == 1e-3);
	assert_int_equal(cfg_f64(c, "sae.l1", 0, &l1, &err), 0);
	assert_true(l1 == 3e-4);
	assert_int_equal(cfg_f64(c, "sae.decay", 0, &decay, &err), 0);
	assert_true(decay == 0.001);
	assert_int_equal(cfg_f64(c, "sae.missing", 2.5, &missing, &err), 0);
	assert_true(missing == 2.5);
	assert_int_equal(cfg_int(c, "sae.absent", 7, 0, 10, &def, &err), 0);
	assert_int_equal(def, 7);
	int64_t *seeds;
	size_t n;
	assert_int_equal(cfg_int_list(c, "sae.seeds", NULL, 0, &seeds, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(seeds[2], 456);
	free(seeds);
	double *lam;
	assert_int_equal(cfg_f64_list(c, "sae.lambdas", NULL, 0, &lam, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(lam[1] == 1e-4);
	free(lam);
	cfg_free(c);
}

static void expect_error(struct cfg *c, int rc, struct hus_err *err, const char *where,
                         const char *part)
{
	(void)c;
	assert_int_equal(rc, HUS_EINPUT);
	assert_string_equal(err->file, "t.yaml");
	assert_string_equal(err->where, where);
	if (!strstr(err->msg, part))
		fail_msg("message '%s' lacks '%s'", err->msg, part);
}

static void test_errors_have_line_column(void **state)
{
	(void)state;
	struct hus_err err = { 0 };
	struct cfg *c = load("sae:\n  k: many\n  lr: fast\n  arch: gated\n");
	int64_t k;
	expect_error(c, cfg_int(c, "sae.k", 1, 1, 100, &k, &err), &err, "2:3", "expected an integer");
	double lr;
	expect_error(c, cfg_f64(c, "sae.lr", 1, &lr, &err), &err, "3:3", "expected a number");
	static const char *const archs[] = { "topk", "relu", NULL };
	const char *a;
	expect_error(c, cfg_str(c, "sae.arch", "topk", archs, &a, &err), &err, "4:3",
		     "expected one of topk, relu");
	cfg_free(c);
	c = load("sae:\n  k: 5000\n");
	expect_error(c, cfg_int(c, "sae.k", 1, 1, 100, &k, &err), &err, "2:3", "in [1, 100]");
	cfg_free(c);
	/* syntax errors: libyaml's mark, 1-based */
	c = NULL;
	int rc = cfg_load_string(&c, "sae:\n  k: [1, 2\n  lr: 3\n", "t.yaml", &err);
	assert_int_equal(rc, HUS_EINPUT);
	assert_null(c);
	assert_non_null(strstr(err.msg, "invalid YAML"));
	assert_string_equal(err.file, "t.yaml");
	rc = cfg_load_string(&c, "a: 1\na: 2\n", "t.yaml", &err);
	expect_error(NULL, rc, &err, "2:1", "duplicate key 'a'");
	rc = cfg_load_string(&c, "- 1\n- 2\n", "t.yaml", &err);
	expect_error(NULL, rc, &err, "1:1", "expected a mapping");
	rc = cfg_load_string(&c, "a: &x 1\nb: *x\n", "t.yaml", &err);
	assert_int_equal(rc, HUS_EINPUT);
	/* an empty document is an empty config */
	assert_int_equal(cfg_load_string(&c, "", "t.yaml", &err), 0);
	assert_int_equal(cfg_finish(c, &err), 0);
	cfg_free(c);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	struct hus_err err = { 0 };
	struct cfg *c = load("sae:\n  k: 4\n  lrr: 0.1\nextra:\n  x: 1\n");
	int64_t k;
	double lr;
	assert_int_equal(cfg_int(c, "sae.k", 1, 1, 100, &k, &err), 0);
	assert_int_equal(cfg_f64(c, "sae.lr", 3e-4, &lr, &err), 0);
	int rc = cfg_finish(c, &err);
	expect_error(c, rc, &err, "3:3", "unknown key 'sae.lrr' (did you mean 'sae.lr'?)");
	cfg_free(c);
	c = load("sae:\n  k: 4\nzzzzzz:\n  x: 1\n");
	assert_int_equal(cfg_int(c, "sae.k", 1, 1, 100, &k, &err), 0);
	rc = cfg_finish(c, &err);
	expect_error(c, rc, &err, "3:1", "unknown key 'zzzzzz'");
	assert_null(strstr(err.msg, "did you mean"));
	cfg_free(c);
}

static void test_overrides_and_resolved(void **state)
{
	(void)state;
	struct hus_err err = { 0 };
	struct cfg *c = load(sample);
	assert_int_equal(cfg_set(c, "sae.k=16", &err), 0);
	assert_int_equal(cfg_set(c, "sae.seeds=1,2", &err), 0);
	assert_int_equal(cfg_set(c, "train.epochs=3", &err), 0);
	assert_int_equal(cfg_set(c, "sae=1", &err), HUS_EUSAGE);
	assert_int_equal(cfg_set(c, "novalue", &err), HUS_EUSAGE);
	read_all(c);
	int64_t k, epochs;
	assert_int_equal(cfg_int(c, "sae.k", 8, 1, 4096, &k, &err), 0);
	assert_int_equal(k, 16);
	assert_int_equal(cfg_int(c, "train.epochs", 1, 1, 100, &epochs, &err), 0);
	assert_int_equal(epochs, 3);
	assert_int_equal(cfg_int(c, "train.batch", 64, 1, 4096, &epochs, &err), 0);
	assert_int_equal(cfg_finish(c, &err), 0);
	char *y = cfg_resolved_yaml(c);
	assert_non_null(strstr(y, "  k: 16\n"));
	assert_non_null(strstr(y, "  seeds: [1, 2]\n"));
	assert_non_null(strstr(y, "  lr: 0.001\n"));
	assert_non_null(strstr(y, "  batch: 64\n"));
	assert_non_null(strstr(y, "  architecture: \"topk\"\n"));
	/* the resolved config is itself a valid config that reads back to the same values */
	struct cfg *again = load(y);
	read_all(again);
	assert_int_equal(cfg_int(again, "sae.k", 8, 1, 4096, &k, &err), 0);
	assert_int_equal(k, 16);
	char h1[65], h2[65];
	cfg_int(again, "train.epochs", 1, 1, 100, &epochs, &err);
	cfg_int(again, "train.batch", 1, 1, 4096, &epochs, &err);
	cfg_hash(c, h1);
	cfg_hash(again, h2);
	assert_string_equal(h1, h2);
	free(y);
	cfg_free(again);
	cfg_free(c);
}

static void hash_of(const char *text, const char *set, char hex[65])
{
	struct hus_err err = { 0 };
	struct cfg *c = load(text);
	if (set)
		assert_int_equal(cfg_set(c, set, &err), 0);
	read_all(c);
	assert_int_equal(cfg_finish(c, &err), 0);
	cfg_hash(c, hex);
	cfg_free(c);
}

static void test_config_hash(void **state)
{
	(void)state;
	char base[65], h[65];
	hash_of(sample, NULL, base);
	hash_of(sample, "out=/somewhere/else", h);
	assert_string_equal(base, h); /* output location never enters the hash */
	hash_of(sample, "sae.k=33", h);
	assert_string_not_equal(base, h);
	hash_of(sample, "sae.lr=0.001", h); /* same value, other spelling */
	assert_string_equal(base, h);
	/* an input file's contents enter the hash, its path does not */
	char p1[64], p2[64];
	snprintf(p1, sizeof(p1), "/tmp/husai_cfg_in1_%d", (int)getpid());
	snprintf(p2, sizeof(p2), "/tmp/husai_cfg_in2_%d", (int)getpid());
	assert_int_equal(hus_write_file(p1, "abc", 3, NULL), 0);
	assert_int_equal(hus_write_file(p2, "abc", 3, NULL), 0);
	char a[65], b[65];
	struct hus_err err = { 0 };
	struct cfg *c = load(sample);
	read_all(c);
	cfg_add_input(c, "activations", p1, &err);
	cfg_hash(c, a);
	cfg_free(c);
	c = load(sample);
	read_all(c);
	cfg_add_input(c, "activations", p2, &err);
	cfg_hash(c, b);
	cfg_free(c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, base);
	assert_int_equal(hus_write_file(p2, "abd", 3, NULL), 0);
	c = load(sample);
	read_all(c);
	cfg_add_input(c, "activations", p2, &err);
	cfg_hash(c, b);
	cfg_free(c);
	assert_string_not_equal(a, b);
	unlink(p1);
	unlink(p2);
}

/* Configs built by code (job configs, imported provenance): typed puts, emitted by the
 * config writer and read back to the same values; no YAML is written by hand. */
static void test_typed_puts(void **state)
{
	(void)state;
	struct hus_err err = { 0 };
	struct cfg *c = cfg_empty("built");
	assert_non_null(c);
	assert_int_equal(cfg_put_map(c, "sae.conditions.empty", &err), 0);
	assert_int_equal(cfg_put_int(c, "sae.conditions.k8.k", 8, &err), 0);
	assert_int_equal(cfg_put_f64(c, "sae.conditions.k8.alignment.lambda", 0.1, &err), 0);
	assert_int_equal(cfg_put_str(c, "sae.name", "a \"quoted\" name", &err), 0);
	assert_int_not_equal(cfg_put_f64(c, "sae.lr", 1.0 / 0.0, &err), 0);
	assert_int_not_equal(cfg_put_map(c, "sae.conditions.k8.k", &err), 0); /* a value */
	static const char *const secs[] = { "sae", NULL };
	char *y = cfg_sections_yaml(c, secs);
	assert_non_null(y);
	struct cfg *b = NULL;
	assert_int_equal(cfg_load_string(&b, y, "emitted", &err), 0);
	int64_t k = 0;
	double lambda = 0;
	const char *name = NULL;
	char **keys = NULL;
	size_t n = 0;
	assert_int_equal(cfg_int(b, "sae.conditions.k8.k", 0, 0, 100, &k, &err), 0);
	assert_int_equal(k, 8);
	assert_int_equal(cfg_f64(b, "sae.conditions.k8.alignment.lambda", 0, &lambda, &err), 0);
	assert_true(lambda == 0.1);
	assert_int_equal(cfg_str(b, "sae.name", NULL, NULL, &name, &err), 0);
	assert_string_equal(name, "a \"quoted\" name");
	assert_int_equal(cfg_keys(b, "sae.conditions", &keys, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(keys[0], "empty"); /* insertion order kept */
	assert_string_equal(keys[1], "k8");
	free(keys); /* the strings belong to b */
	free(y);
	cfg_free(b);
	cfg_free(c);
}

static void test_sections_subset(void **state)
{
	(void)state;
	struct hus_err err = { 0 };
	struct cfg *c = load("experiment:\n  kind: demo\nsae:\n  k: 4\n  seeds: [1, 2]\n"
			     "  nested:\n    lr: 1e-3\ntransformer:\n  epochs: 3\n");
	assert_int_equal(cfg_set(c, "sae.k=9", &err), 0);
	static const char *const want[] = { "sae", "absent", NULL };
	char *y = cfg_sections_yaml(c, want);
	assert_non_null(y);
	assert_null(strstr(y, "transformer"));
	struct cfg *sub = load(y);
	int64_t k, *seeds;
	size_t n;
	double lr;
	assert_int_equal(cfg_int(sub, "sae.k", 1, 1, 100, &k, &err), 0);
	assert_int_equal(k, 9);
	assert_int_equal(cfg_int_list(sub, "sae.seeds", NULL, 0, &seeds, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seeds[1], 2);
	free(seeds);
	assert_int_equal(cfg_f64(sub, "sae.nested.lr", 0, &lr, &err), 0);
	assert_true(lr == 1e-3);
	assert_int_equal(cfg_finish(sub, &err), 0);
	cfg_free(sub);
	free(y);
	/* the handed-out section counts as read; the rest still must be */
	const char *kind;
	assert_int_equal(cfg_str(c, "experiment.kind", "x", NULL, &kind, &err), 0);
	assert_int_equal(cfg_finish(c, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "unknown key 'transformer'"));
	cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_getters),
		cmocka_unit_test(test_errors_have_line_column),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_overrides_and_resolved),
		cmocka_unit_test(test_config_hash),
		cmocka_unit_test(test_sections_subset),
		cmocka_unit_test(test_typed_puts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
