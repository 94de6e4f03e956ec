/*
 * husai.c — the `husai` executable: a git-style table of verbs, `husai help [verb]`, and the
 * exit path (stdout is flushed and closed, and a failed write, e.g. a full disk, is an error).
 * The verbs themselves live in the stage folders; see builtin.h for how to add one.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "builtin.h"
#include "formats.h"
#include "train.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd commands[] = {
	{ "run",               cmd_run,               "run a whole experiment from one config, resumably, into one run directory" },
	{ "train-transformer", cmd_train_transformer, "train the modular-addition transformer (HDF5 checkpoints, exact resume)" },
	{ "extract",           cmd_extract,           "extract activations from a transformer checkpoint into an activation set" },
	{ "train-sae",         cmd_train_sae,         "train SAEs over seeds in one pass over an activation set" },
	{ "plant",             cmd_plant,             "write an activation set drawn from known planted features (ground truth for SAEs)" },
	{ "functional",        cmd_functional,        "do matched features of two seeds' SAEs act alike in the transformer? (substitution test)" },
	{ "analyze",           cmd_analyze,           "cross-seed stability metrics, random controls and statistics" },
	{ "report",            cmd_report,            "figures (PNG, SVG, PDF) and Markdown reports from run directories" },
	{ "import",            cmd_import,            "convert SAELens/sparsify/dictionary_learning SAEs and upstream .pt checkpoints to husai HDF5" },
	{ "import-activations", cmd_import_activations, "convert an activation matrix (.npy, .safetensors, HDF5, .pt) to a husai activation set" },
	{ "export",            cmd_export,            "write husai SAEs in SAELens or sparsify layout (safetensors + cfg.json)" },
	{ "inspect",           cmd_inspect,           "show and validate any husai artifact" },
	{ "audit",             cmd_audit,             "recompute every checksum of a run directory's manifest" },
	{ "version",           cmd_version,           "print husai's and its libraries' versions" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_overview(FILE *out)
{
	fprintf(out,
		"usage: husai <verb> [<options>]\n"
		"       husai help <verb>   (or husai <verb> --help)\n"
		"\n"
		"husai trains transformers and sparse autoencoders, measures whether SAE features are\n"
		"stable across seeds against random controls, and turns archived runs into figures and\n"
		"reports.  Every artifact is HDF5 with its config, checksums and provenance.\n"
		"\n"
		"verbs:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "   %-18s %s\n", commands[i].name, commands[i].help);
}

/* A library that gives up calls exit() in the middle of a verb: libgomp does when it cannot
 * create its threads ("libgomp: Thread creation failed"), which under a memory limit
 * (ulimit -v) is how running out of memory looks.  Say so on the way out. */
static const char *verb_running;

static void verb_ended_abruptly(void)
{
	if (!verb_running)
		return;
	struct rlimit rl;
	if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY)
		fprintf(stderr,
			"husai: %s: stopped by a library (the line above) under a memory limit of "
			"%llu MB (ulimit -v): out of memory; raise the limit, or lower "
			"OMP_NUM_THREADS or the sizes in the config\n",
			verb_running, (unsigned long long)(rl.rlim_cur >> 20));
	else
		fprintf(stderr, "husai: %s: stopped by a library (the line above)\n", verb_running);
}

static int run_command(const struct cmd *c, int argc, char **argv)
{
	verb_running = c->name;
	atexit(verb_ended_abruptly);
	int status = c->fn(argc, argv);
	verb_running = NULL;
	/* git's run_builtin: a verb whose output could not be written has failed */
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno != EPIPE && errno != EINVAL) {
			fprintf(stderr, "husai: %s: could not write output: %s\n", c->name,
				strerror(errno));
			return status ? status : 1;
		}
	}
	return status;
}

/*
 * libgomp's threads spin between parallel regions by default; on a shared or busy machine
 * that spinning costs several times the useful work (measured on the SAE step: 64 ms of CPU
 * instead of 17 ms).  The wait policy is read when libgomp loads, before main, so husai
 * re-executes itself once with OMP_WAIT_POLICY=passive unless the user chose a policy.
 * Results do not depend on it: reductions have a fixed order whatever the threads do.
 */
static void prefer_passive_openmp(char **argv)
{
	if (getenv("OMP_WAIT_POLICY"))
		return;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1); /* valgrind maps this */
	if (n <= 0)
		return;
	self[n] = 0;
	setenv("OMP_WAIT_POLICY", "passive", 1);
	execv(self, argv);
	/* exec failed: carry on with the default policy */
}

int main(int argc, char **argv)
{
	prefer_passive_openmp(argv);
	husai_run_sections_check = train_sections_check;
	/* a file-size limit (ulimit -f) must be a write error naming the file, not a kill */
	signal(SIGXFSZ, SIG_IGN);
	hus_libs_init();
	/* a HUSAI_ISA this CPU cannot run is an error before any work, never a silent fallback */
	const char *isa_err = hus_isa_env_error();
	if (isa_err) {
		fprintf(stderr, "husai: %s\n", isa_err);
		return 2;
	}
	if (argc < 2) {
		print_overview(stderr);
		return 2;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		print_overview(stdout);
		return 0;
	}
	if (!strcmp(verb, "--version"))
		verb = "version";
	if (!strcmp(verb, "help")) {
		if (argc < 3) {
			print_overview(stdout);
			return 0;
		}
		const struct cmd *c = find_command(argv[2]);
		if (!c) {
			fprintf(stderr, "husai: '%s' is not a husai verb; see 'husai --help'\n", argv[2]);
			return 2;
		}
		char *help_argv[] = { (char *)c->name, (char *)"--help", NULL };
		return run_command(c, 2, help_argv);
	}
	const struct cmd *c = find_command(verb);
	if (!c) {
		fprintf(stderr, "husai: '%s' is not a husai verb; see 'husai --help'\n", verb);
		return 2;
	}
	return run_command(c, argc - 1, argv + 1);
}
