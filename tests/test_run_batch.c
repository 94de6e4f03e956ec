/*
 * test_run_batch.c — the batch engine under `husai run` (run/run_batch.c, run_mpi.c) in
 * one process (rank 0 of 1 takes the work-queue path of rank 0 with no other rank): a job
 * declared in a batch runs only at the batch's end (and outside a batch at once), each leaving
 * its done record with its times; once a job failed, no later job of the batch starts; a rank that knows
 * of a failure never meets the others again; the MPI launcher's variables are the ones kept
 * from jobs, and `husai run` without a launcher is rank 0 of 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

static void test_launcher_env(void **state)
{
	(void)state;
	assert_true(run_mpi_env_is_launcher("OMPI_COMM_WORLD_RANK=1"));
	assert_true(run_mpi_env_is_launcher("PMIX_RANK=0"));
	assert_true(run_mpi_env_is_launcher("PMI_SIZE=4"));
	assert_false(run_mpi_env_is_launcher("OMP_NUM_THREADS=1"));
	assert_false(run_mpi_env_is_launcher("HUSAI_QUIET=1"));
	assert_false(run_mpi_env_is_launcher("PATH=/usr/bin"));
	assert_false(run_mpi_env_is_launcher("SLURM_JOB_ID=7"));
	/* without a launcher in the environment, rank 0 of 1 and no MPI */
	unsetenv("OMPI_COMM_WORLD_SIZE"), unsetenv("PMIX_RANK"), unsetenv("PMI_RANK");
	unsetenv("PMI_SIZE");
	assert_false(run_mpi_launched());
	int rank = -1, size = -1;
	struct hus_err err = { 0 };
	assert_int_equal(run_mpi_init(&rank, &size, &err), 0);
	assert_int_equal(rank, 0);
	assert_int_equal(size, 1);
	int64_t v[2] = { 3, 4 };
	assert_int_equal(run_mpi_sum(v, 2, &err), 0);
	assert_int_equal(v[0], 3); /* the sum over one rank */
	run_mpi_finalize();
}

static void test_sticky_failure(void **state)
{
	(void)state;
	struct run_group g = { .rank = 1, .size = 2, .failed = 1 };
	struct hus_err err = { 0 };
	/* a failure is known: no meeting (nobody would come), and the status is a failure */
	assert_int_equal(run_group_sync(&g, HUS_EIO, &err), HUS_EIO);
	int rc = run_group_sync(&g, 0, &err);
	assert_true(rc < 0);
	assert_non_null(strstr(err.msg, "another rank failed"));
	struct run_group one = { .rank = 0, .size = 1 };
	assert_int_equal(run_group_sync(&one, 0, &err), 0);
	assert_int_equal(run_group_sync(&one, HUS_EINPUT, &err), HUS_EINPUT);
}

static double exp_jnum_or(hj *v, const char *key)
{
	double x = -1;
	hj_get_f64(v, key, &x);
	return x;
}

static int exists(const char *dir, const char *rel)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static void test_batch_runs_at_end(void **state)
{
	(void)state;
	char dir[] = "/tmp/husai_test_run_batch_XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct runner r = { 0 };
	struct hus_err err = { 0 };
	assert_int_equal(runner_init(&r, dir, 0, &err), 0);
	snprintf(r.exe, sizeof(r.exe), "%s", HUSAI_BIN); /* jobs run husai, not this test */
	r.quiet_env = 1;
	static const char *const argv[] = { "version", NULL };
	static const char *const none[] = { NULL };
	runner_batch_begin(&r);
	assert_int_equal(runner_job(&r, "one", argv, none, &err), 0);
	assert_int_equal(runner_job(&r, "two", argv, none, &err), 0);
	assert_int_equal(r.jobs_seen, 2);
	assert_int_equal(r.jobs_run, 0); /* declared, not run */
	assert_false(exists(dir, "jobs/one.done.json"));
	assert_int_equal(runner_batch_end(&r, 0, &err), 0);
	assert_int_equal(r.jobs_run, 2);
	assert_true(exists(dir, "jobs/one.done.json"));
	assert_true(exists(dir, "jobs/two.done.json"));
	assert_true(exists(dir, "logs/two.log"));
	/* outside a batch a job runs at once; a finished one is reused */
	assert_int_equal(runner_job(&r, "three", argv, none, &err), 0);
	assert_true(exists(dir, "jobs/three.done.json"));
	assert_int_equal(runner_job(&r, "one", argv, none, &err), 0);
	assert_int_equal(r.jobs_run, 3);
	assert_int_equal(r.jobs_skipped, 1);
	/* a failure while declaring runs nothing of the batch and is the batch's status */
	runner_batch_begin(&r);
	assert_int_equal(runner_job(&r, "four", argv, none, &err), 0);
	assert_int_equal(runner_batch_end(&r, HUS_EIO, &err), HUS_EIO);
	assert_false(exists(dir, "jobs/four.done.json"));
	char done[PATH_MAX + 64];
	snprintf(done, sizeof(done), "%s/jobs/one.done.json", dir);
	hj *d;
	assert_int_equal(hj_read_file(done, &d, &err), 0);
	assert_true(exp_jnum_or(d, "seconds") >= 0);
	assert_true(exp_jnum_or(d, "cpu_seconds") >= 0);
	hj_free(d);
	/* two at once: both run, both recorded */
	r.jobs = 2;
	runner_batch_begin(&r);
	assert_int_equal(runner_job(&r, "six", argv, none, &err), 0);
	assert_int_equal(runner_job(&r, "seven", argv, none, &err), 0);
	assert_int_equal(runner_batch_end(&r, 0, &err), 0);
	assert_true(exists(dir, "jobs/six.done.json"));
	assert_true(exists(dir, "jobs/seven.done.json"));
	assert_int_equal(r.slots, 2); /* the batch ran them two at once */
	/* a failing job fails the batch, naming the job, and (one at a time) the jobs after it do
	 * not start */
	r.jobs = 1;
	static const char *const bad[] = { "no-such-verb", NULL };
	runner_batch_begin(&r);
	assert_int_equal(runner_job(&r, "bad", bad, none, &err), 0);
	assert_int_equal(runner_job(&r, "five", argv, none, &err), 0);
	int rc = runner_batch_end(&r, 0, &err);
	assert_true(rc < 0);
	assert_non_null(strstr(err.msg, "'bad'"));
	assert_false(exists(dir, "jobs/five.done.json"));
	assert_int_equal(runner_finish(&r, 0, &err), 0);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launcher_env),
		cmocka_unit_test(test_sticky_failure),
		cmocka_unit_test(test_batch_runs_at_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
