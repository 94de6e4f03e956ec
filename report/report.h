/*
 * report.h — the public face of report/: plotting primitives on cairo + pango, axes, the
 * figures, and Markdown rendering from templates/.  Reads only analysis outputs.
 */
#ifndef HUSAI_REPORT_H
#define HUSAI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

#endif
