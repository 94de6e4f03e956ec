#include "internal.h"
int rep_markdown_write(struct rep_run *runs, size_t nruns, struct rep_fig_result (*figs)[REP_MAX_FIGS],
                       const size_t *nfigs, const char *templates_dir, const char *out_root,
                       struct hus_err *err)
{ (void)runs;(void)nruns;(void)figs;(void)nfigs;(void)templates_dir;(void)out_root;(void)err; return 0; }
