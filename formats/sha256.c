/*
 * sha256.c — SHA-256 of files and buffers through OpenSSL's EVP interface (libcrypto), for
 * manifests, config hashes and input checksums recorded in artifacts.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

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

int hus_sha256_file(const char *path, char hex[65], uint64_t *bytes, struct hus_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return hus_errf(err, errno == ENOENT ? HUS_EINPUT : HUS_EIO, path, NULL,
				"cannot open: %s", strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		fclose(f);
		EVP_MD_CTX_free(ctx);
		return hus_errf(err, HUS_EINTERNAL, path, NULL, "libcrypto: cannot start sha256");
	}
	unsigned char buf[1 << 16];
	uint64_t total = 0;
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(ctx, buf, got);
		total += got;
	}
	int bad = ferror(f);
	fclose(f);
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (bad)
		return hus_errf(err, HUS_EIO, path, NULL, "read error while hashing");
	to_hex(md, hex);
	if (bytes)
		*bytes = total;
	return 0;
}
