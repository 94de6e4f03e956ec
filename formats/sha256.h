/*
 * sha256.h — SHA-256 of files, descriptors and buffers (formats/sha256.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_SHA256_H
#define HUSAI_FORMATS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* ---------------------------------------------------------------- sha256 ------------ */

/* of a regular file only (a FIFO or device is refused, never read) */
int hus_sha256_file(const char *path, char hex[65], uint64_t *bytes, struct hus_err *err);
/* of what is left to read on `fd` (named `path` in errors) */
int hus_sha256_fd(int fd, const char *path, char hex[65], uint64_t *bytes, struct hus_err *err);
void hus_sha256_buf(const void *buf, size_t n, char hex[65]);

#endif
