/*
 * run_mpi.c — the only file that talks MPI (docs/decisions.md §9).  `husai run` started by mpirun or
 * srun joins the MPI job here; every other part of husai sees a rank and a number of ranks,
 * and one collective: an element-wise sum of a few int64 over all ranks (run_batch.c builds
 * its barriers and status agreement on it), and the work queue's messages: one int64 from a
 * rank to another.  Built without MPI (HUSAI_MPI=OFF), every call is
 * the single-process version: rank 0 of 1, the sum is the value itself.
 *
 * Invariants:
 *  (1) MPI_Init happens only when the environment says a launcher started this process
 *      (run_mpi_launched), so `husai run` alone never touches MPI;
 *  (2) waiting ranks do not spin: the sum and the receive are non-blocking requests polled
 *      with sleeps, so a rank waiting for another rank's job leaves the CPU to that job (the
 *      machine's cores belong to the jobs' OpenMP threads);
 *  (3) job processes never see the launcher's environment (run_mpi_env_is_launcher), so a
 *      child `husai run` (the suite) is an ordinary single process.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"

#ifdef HUSAI_HAVE_MPI
#include <mpi.h>
#endif

int run_mpi_launched(void)
{
	static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
					    "PMI_SIZE", NULL };
	for (int i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return 1;
	}
	return 0;
}

int run_mpi_env_is_launcher(const char *entry)
{
	/* Open MPI / PMIx / PMI(-2) / MPICH's hydra: what makes a process think it is a rank */
	static const char *const prefixes[] = { "OMPI_", "PMIX_", "PMI_", "OPAL_", "HYDRA_",
						"MPI_LOCALRANKID=", "MPI_LOCALNRANKS=", NULL };
	for (int i = 0; prefixes[i]; i++)
		if (!strncmp(entry, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

#ifdef HUSAI_HAVE_MPI

static int mpi_started;
#define QUEUE_TAG 7 /* the work queue's messages (run_batch.c) */

/* Invariant (2): poll with sleeps of 0.1 ms doubling to 20 ms (cheap when ranks arrive
 * together, idle when they wait for a job). */
static int wait_request(MPI_Request *req, struct hus_err *err)
{
	long wait_ns = 100000;
	for (;;) {
		int done = 0;
		if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
			return hus_errf(err, HUS_EIO, NULL, NULL, "MPI_Test failed: lost another rank");
		if (done)
			return 0;
		struct timespec ts = { 0, wait_ns };
		nanosleep(&ts, NULL);
		if (wait_ns < 20000000)
			wait_ns *= 2;
	}
}

int run_mpi_available(void) { return 1; }

int run_mpi_init(int *rank, int *size, struct hus_err *err)
{
	*rank = 0;
	*size = 1;
	if (!run_mpi_launched())
		return 0;
	int provided = 0;
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS)
		return hus_errf(err, HUS_EIO, NULL, NULL,
				"started by an MPI launcher but MPI_Init failed; run without mpirun/srun "
				"for a single process");
	mpi_started = 1;
	/* errors come back as codes, never as an abort inside the library */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, size);
	return 0;
}

int run_mpi_sum(int64_t *v, size_t n, struct hus_err *err)
{
	if (!mpi_started)
		return 0;
	int64_t in[RUN_MPI_MAXSUM];
	if (n > RUN_MPI_MAXSUM)
		return hus_errf(err, HUS_EINTERNAL, NULL, NULL, "run_mpi_sum of %zu values", n);
	memcpy(in, v, n * sizeof(*v));
	MPI_Request req;
	if (MPI_Iallreduce(in, v, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
		return hus_errf(err, HUS_EIO, NULL, NULL, "MPI_Iallreduce failed");
	return wait_request(&req, err);
}

int run_mpi_send(int to, int64_t v, struct hus_err *err)
{
	if (!mpi_started)
		return 0;
	if (MPI_Send(&v, 1, MPI_INT64_T, to, QUEUE_TAG, MPI_COMM_WORLD) != MPI_SUCCESS)
		return hus_errf(err, HUS_EIO, NULL, NULL, "MPI_Send to rank %d failed", to);
	return 0;
}

int run_mpi_poll(int *from, int64_t *v, struct hus_err *err)
{
	if (!mpi_started)
		return 0;
	int flag = 0;
	MPI_Status st;
	if (MPI_Iprobe(MPI_ANY_SOURCE, QUEUE_TAG, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
		return hus_errf(err, HUS_EIO, NULL, NULL, "MPI_Iprobe failed");
	if (!flag)
		return 0;
	*from = st.MPI_SOURCE;
	if (MPI_Recv(v, 1, MPI_INT64_T, st.MPI_SOURCE, QUEUE_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
	    MPI_SUCCESS)
		return hus_errf(err, HUS_EIO, NULL, NULL, "MPI_Recv from rank %d failed", *from);
	return 1;
}

int run_mpi_recv(int from, int64_t *v, struct hus_err *err)
{
	if (!mpi_started)
		return hus_errf(err, HUS_EINTERNAL, NULL, NULL, "run_mpi_recv without MPI");
	MPI_Request req;
	if (MPI_Irecv(v, 1, MPI_INT64_T, from, QUEUE_TAG, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
		return hus_errf(err, HUS_EIO, NULL, NULL, "MPI_Irecv from rank %d failed", from);
	return wait_request(&req, err);
}

void run_mpi_finalize(void)
{
	if (mpi_started)
		MPI_Finalize();
	mpi_started = 0;
}

#else /* single process: rank 0 of 1 */

int run_mpi_available(void) { return 0; }

int run_mpi_init(int *rank, int *size, struct hus_err *err)
{
	*rank = 0;
	*size = 1;
	/* N copies of one single-process run would run every job N times into one directory */
	static const char *const sizes[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS", NULL };
	for (int i = 0; sizes[i]; i++) {
		const char *v = getenv(sizes[i]);
		if (run_mpi_launched() && v && atol(v) > 1)
			return hus_errf(err, HUS_EINPUT, NULL, sizes[i],
					"started as one of %s ranks, but this husai was built without "
					"MPI; rebuild with -DHUSAI_MPI=ON (Debian libopenmpi-dev) or run "
					"without mpirun/srun",
					v);
	}
	return 0;
}

int run_mpi_sum(int64_t *v, size_t n, struct hus_err *err)
{
	(void)v, (void)n, (void)err;
	return 0;
}

int run_mpi_send(int to, int64_t v, struct hus_err *err)
{
	(void)to, (void)v, (void)err;
	return 0;
}

int run_mpi_poll(int *from, int64_t *v, struct hus_err *err)
{
	(void)from, (void)v, (void)err;
	return 0;
}

int run_mpi_recv(int from, int64_t *v, struct hus_err *err)
{
	(void)v;
	return hus_errf(err, HUS_EINTERNAL, NULL, NULL, "no rank %d without MPI", from);
}

void run_mpi_finalize(void) {}

#endif
