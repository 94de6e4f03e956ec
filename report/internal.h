/*
 * internal.h — report/'s private declarations beyond the plotting layer (plot/plot.h): a loaded run
 * directory, strict/tolerant getters for results.json (load.c), the figure table
 * (figures.c, fig_f*.c) and the Markdown side (template.c, markdown.c).
 */
#ifndef HUSAI_REPORT_INTERNAL_H
#define HUSAI_REPORT_INTERNAL_H

#include <limits.h>

#include "plot.h"
#include "report.h"

/* ------------------------------------------------------------------ load.c -------- */

/* A summary of docs/formulas.md §6.0: mean, std, min, max, median, ci95_low, ci95_high, n, and the
 * optional husai additions read by figures.  Absent optional numbers are NaN. */
struct rep_summary {
	double mean, std, min, max, median, lo, hi, n;
	double *values;  /* pwmcc_values (or NULL), NaN for null entries */
	size_t nvalues;
};
void rep_summary_release(struct rep_summary *s);

/* Every getter reads `key` under `base` (whose JSON path is `base_path`, "" for the root).
 * required: absent -> HUS_EINPUT naming the results file and the full key path.
 * Present but the wrong type is always an error; JSON null is NaN (a gap, footnoted). */
int rep_num(const struct rep_run *r, hj *base, const char *base_path, const char *key,
            int required, double *out, struct hus_err *err);
int rep_summary_get(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                    int required, struct rep_summary *s, struct hus_err *err);
/* Array of numbers/nulls; *v is malloc'ed (NULL and n = 0 when absent and optional). */
int rep_num_array(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                  int required, double **v, size_t *n, struct hus_err *err);
/* A JSON array of objects (records).  *arr = NULL when absent and optional. */
int rep_records(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                int required, hj **arr, struct hus_err *err);
/* Join base_path and key into buf ("a.b" or "b"). */
const char *rep_path(char *buf, size_t n, const char *base_path, const char *key);
/* labels.c: "k = 8", "k = 32, d_sae = 64", "λ = 0.001" for a record of the run's kind, and
 * the words for a condition id ("k_sweep_dsae256_k8" -> "k = 8, d_sae = 256"). */
void rep_record_label(const struct rep_run *r, hj *rec, char *buf, size_t n);
void rep_condition_label(const struct rep_run *r, const char *id, char *buf, size_t n);
/* The pairwise list [{seed_a, seed_b, pwmcc}] as a seed x seed matrix (NaN diagonal).
 * Returns 1 if absent, 0 on success (malloc'ed *m, *seeds), <0 on malformed input. */
int rep_pairwise_matrix(const struct rep_run *r, hj *list, const char *path, double **m,
                        int64_t **seeds, size_t *n, struct hus_err *err);

/* ------------------------------------------------------------------ records.c ----- */

/* Columns of a record list, in the order of the records' x key (ascending, stable).
 * rep_rec_order reads x (required number) and fills order[0..n).  The column getters read
 * record order[i] into slot i; an absent optional value is NaN.  *found counts records
 * that had the key. */
int rep_rec_order(const struct rep_run *r, hj *recs, const char *path, const char *xkey,
                  double *x, size_t *order, struct hus_err *err);
int rep_rec_num(const struct rep_run *r, hj *recs, const char *path, const size_t *order,
                size_t n, const char *key, int required, double *v, size_t *found,
                struct hus_err *err);
int rep_rec_summary(const struct rep_run *r, hj *recs, const char *path, const size_t *order,
                    size_t n, const char *key, int required, double *m, double *lo, double *hi,
                    size_t *found, struct hus_err *err);
/* A figure's required list of records (results.json key `key`) and how many: 0 when it has
 * records, 1 when it is empty (the reason in skip: the figure is not drawn), < 0 on error. */
int rep_rec_list(const struct rep_run *r, const char *key, hj **recs, size_t *n, char *skip,
                 size_t nskip, struct hus_err *err);
/* Record i of results.json's `list` (a list of records, or one record object such as
 * retrain_record) with its JSON path ("list.i", or "list") written to path; NULL past the
 * last record or when the run has no such key. */
hj *rep_rec_each(hj *res, const char *list, size_t i, char *path, size_t n);
/* Copy with truncation, always NUL-terminated. */
void rep_strcpy(char *dst, size_t n, const char *src);
/* n doubles, NaN-filled (malloc); NULL on failure. */
double *rep_nan_alloc(size_t n);
/* The NaN-filled columns of n doubles a figure reads records into, in one block: *col[j] for
 * each j up to the NULL that ends col; returns the block to free (NULL when out of memory,
 * every *col[j] NULL). */
double *rep_nan_columns(size_t n, double **const col[]);

/* ------------------------------------------------------------------ figures.c ----- */

/* A figure's drawing function: 0 drawn, 1 not applicable (reason in skip), < 0 error. */
typedef int (*rep_draw_fn)(struct fig_canvas *c, const struct rep_run *r, char *skip,
                           size_t nskip, struct hus_err *err);
struct rep_figure {
	const char *id;       /* "F1" */
	const char *name;     /* file stem "F1_phase4a" */
	const char *caption;
	double w, h;          /* points */
	unsigned kinds;       /* bit mask of enum rep_kind it applies to */
	rep_draw_fn draw;
	/* optional: the size for the data, given the style's width (which it may narrow) and
	 * height (e.g. rows of heatmap panels) */
	void (*size)(const struct rep_run *r, double *w, double *h);
};
/* Draw f for r on a new canvas c of device dev (first on a recording surface, to find the
 * series that would be hidden; plot/overlap.c).  skip_series (tests, may be NULL) leaves one
 * series out.  0 drawn (c open: save and release it), 1 not applicable, < 0 error (c closed). */
int rep_figure_draw(const struct rep_figure *f, const struct rep_run *r, enum fig_device dev,
                    const char *skip_series, struct fig_canvas *c, char *skip, size_t nskip,
                    struct hus_err *err);
/* The figure's page size in points in the current style (fig_style_size, then ->size). */
void rep_figure_size(const struct rep_figure *f, const struct rep_run *r, double *w, double *h);
void fig_f6_size(const struct rep_run *r, double *w, double *h);
extern const struct rep_figure rep_figures[];
extern const size_t rep_nfigures;

int fig_f1_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f2_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f3_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f4_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f5_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f6_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f7_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f8_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f9_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f10_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
int fig_f11_draw(struct fig_canvas *, const struct rep_run *, char *, size_t, struct hus_err *);
/* sweep.c: the shared "metric against x with CI bands" plot of F2/F3 (core grids); the x axis
 * is named by its key (k, d_sae). */
int fig_sweep_draw(struct fig_canvas *c, const struct rep_run *r, const char *grid,
                   const char *xkey, char *skip, size_t nskip, struct hus_err *err);
/* sweep.c: one panel of a sweep figure (F2-F5) in the box (0, oy, c->w, oh): fig_panel_open
 * with s; explained variance from elo to ehi on a right axis (REP_EV_AXIS), or only that
 * axis's margin so that stacked panels' x axes line up (REP_EV_MARGIN), or neither; the
 * legend reserved above the plot, the panel laid out, its axes and legend drawn. */
enum rep_ev_axis { REP_EV_NONE, REP_EV_AXIS, REP_EV_MARGIN };
void fig_sweep_panel(struct fig_canvas *c, struct fig_panel *p, double oy, double oh,
                     const struct fig_panel_spec *s, enum rep_ev_axis ev, double elo, double ehi,
                     const struct fig_legend_entry *leg, size_t nl);
/* sweep.c: the EV series of a sweep panel (legend "EV (right)"): line and markers (series id
 * `series`) against the right axis. */
void fig_sweep_ev(struct fig_canvas *c, const struct fig_panel *p, const double *x,
                  const double *ev, size_t n, int series);
/* sweep.c: after a panel's data series, the selected x of an adaptive search (selection.
 * selected_k, selected_lambda; NaN: none) marked by a dashed vertical line with its label. */
void fig_sweep_selected(struct fig_canvas *c, const struct fig_panel *p, double sel,
                        const char *label);

/* ------------------------------------------------------------------ templates ----- */

/* The templates/ files compiled in (generated templates_embedded.c); ends with { NULL, NULL }. */
struct rep_template {
	const char *name;          /* "summary_phase4a.md" */
	const unsigned char *text; /* NUL-terminated */
};
extern const struct rep_template rep_templates[];

/* ------------------------------------------------------------------ publication ---- */

/* findings.c: _report.lead, _report.lead_sources and _report.warnings of a run's parsed
 * results (dir: the run directory's base name, for the sources). */
void rep_findings(hj *res, const char *dir);
/* publish.c: number the "## " sections of md 1, 2, 3, ... in order (a heading "## 6b. X"
 * or "## X" becomes "## <n>. X"); returns a new string (NULL: out of memory). */
char *rep_md_number_sections(const char *md);
/* publish.c: every pipe table of md as a LaTeX booktabs tabular, <stem>.table<i>.tex
 * (i from 1); *n_tables gets how many. */
int rep_md_latex_tables(const char *md, const char *stem, size_t *n_tables, struct hus_err *err);
/* publish.c: <stem>.sources.json {markdown, runs [{name, dir, results_sha256}], numbers
 * [{line, column, text, format, source}], sentences [{text, format, source}]} */
int rep_md_write_sources(const char *stem, const char *md_name, hj *runs, hj *numbers,
                         hj *sentences, struct hus_err *err);

#endif
