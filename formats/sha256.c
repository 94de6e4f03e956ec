/*
 * sha256.c — SHA-256 of files and buffers through OpenSSL's EVP interface (libcrypto), for
 * manifests, config hashes and input checksums recorded in artifacts.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"

static void to_hex(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = 0;
}

void hus_sha256_buf(const void *buf, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL);
	to_hex(md, hex);
}

int hus_sha256_fd(int fd, const char *path, char hex[65], uint64_t *bytes, struct hus_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return hus_errf(err, HUS_EINTERNAL, path, NULL, "libcrypto: cannot start sha256");
	}
	unsigned char buf[1 << 16];
	uint64_t total = 0;
	int bad = 0;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			bad = errno;
		if (got <= 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)got);
		total += (uint64_t)got;
	}
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (bad)
		return hus_errf(err, HUS_EIO, path, NULL, "read error while hashing: %s",
				strerror(bad));
	to_hex(md, hex);
	if (bytes)
		*bytes = total;
	return 0;
}

int hus_sha256_file(const char *path, char hex[65], uint64_t *bytes, struct hus_err *err)
{
	int fd = hus_open_regular(path, 0, NULL, err); /* never a FIFO or a device */
	if (fd < 0)
		return fd;
	int rc = hus_sha256_fd(fd, path, hex, bytes, err);
	close(fd);
	return rc;
}
