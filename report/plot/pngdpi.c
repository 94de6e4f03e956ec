/*
 * pngdpi.c — tags cairo's PNG with its resolution: inserts a pHYs chunk (pixels per metre)
 * right after IHDR, so viewers and LaTeX size a 300 dpi figure correctly.  cairo does not
 * write one.  Owns the PNG CRC-32 (ISO 3309, as in the PNG specification's sample code).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

unsigned char *fig_png_set_dpi(const unsigned char *png, size_t n, double dpi, size_t *outn)
{
	/* signature (8) + IHDR chunk (4 len + 4 type + 13 data + 4 crc) */
	const size_t ihdr_end = 8 + 25;
	if (n < ihdr_end || memcmp(png + 12, "IHDR", 4))
		return NULL;
	unsigned char *o = malloc(n + 21);
	if (!o)
		return NULL;
	memcpy(o, png, ihdr_end);
	unsigned char *c = o + ihdr_end;
	uint32_t ppm = (uint32_t)lround(dpi / 0.0254);
	put32(c, 9);
	memcpy(c + 4, "pHYs", 4);
	put32(c + 8, ppm);
	put32(c + 12, ppm);
	c[16] = 1; /* unit: metre */
	put32(c + 17, crc32_png(c + 4, 13));
	memcpy(o + ihdr_end + 21, png + ihdr_end, n - ihdr_end);
	*outn = n + 21;
	return o;
}
