/*
 * builtin.h — every `husai` verb, one function each, one file each (cmd_<verb>.c in the stage
 * folder that owns the work).  A verb returns the process exit status.
 *
 * Adding a verb (git/git builtin.h style checklist):
 *  1. write `int cmd_<verb>(int argc, char **argv)` in <stage>/cmd_<verb>.c, with a usage
 *     array and `--help` printing it to stdout (status 0), misuse to stderr (status 2);
 *  2. declare it below and add a row to `commands[]` in husai.c;
 *  3. add a test (tests/test_cli.c runs every row with --help);
 *  4. mention it in README.md.
 */
#ifndef HUSAI_BUILTIN_H
#define HUSAI_BUILTIN_H

int cmd_version(int argc, char **argv);           /* formats/cmd_version.c */
int cmd_inspect(int argc, char **argv);           /* formats/cmd_inspect.c */
int cmd_audit(int argc, char **argv);             /* run/cmd_audit.c */
int cmd_import(int argc, char **argv);            /* formats/import/cmd_import.c */
int cmd_import_activations(int argc, char **argv); /* formats/import/import_activations.c */
int cmd_export(int argc, char **argv);            /* formats/import/cmd_export.c */
int cmd_train_transformer(int argc, char **argv); /* train/cmd_train_transformer.c */
int cmd_extract(int argc, char **argv);           /* train/cmd_extract.c */
int cmd_train_sae(int argc, char **argv);         /* train/cmd_train_sae.c */
int cmd_plant(int argc, char **argv);             /* train/cmd_plant.c */
int cmd_functional(int argc, char **argv);        /* train/cmd_functional.c */
int cmd_analyze(int argc, char **argv);           /* analyze/cmd_analyze.c */
int cmd_report(int argc, char **argv);            /* report/cmd_report.c */
int cmd_run(int argc, char **argv);               /* run/cmd_run.c */

/* The checker `husai run` applies to the stage sections (data, transformer, sae) of the
 * user's config before anything is written or run, so an error names the user's file and
 * line:column.  run/ links no train code: main() sets it to train_sections_check. */
struct cfg;
struct hus_err;
extern int (*husai_run_sections_check)(struct cfg *c, struct hus_err *err);

#endif
