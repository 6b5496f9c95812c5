/*
 * The pictures of 'peimm damon' and 'peimm maps', produced through their command functions
 * and checked as files: the PNG's signature, IHDR, every chunk's CRC-32, the stored deflate
 * blocks and their Adler-32; the SVGs' cells, colours and labels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"

/* A fresh directory for one test's files (tests may run in parallel). */
static void tmpdir(char *dir)
{
	strcpy(dir, "/tmp/peimm-pictest-XXXXXX");
	if (!mkdtemp(dir))
		dir[0] = '\0';
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
	}
	return ~c;
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static int run(int (*cmd)(int, char **), const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5, const char *a6, const char *a7)
{
	char *argv[] = { (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, (char *)a6,
			 (char *)a7, NULL };
	int argc = 0;
	while (argv[argc])
		argc++;
	return cmd(argc, argv);
}

TEST(damon_png_is_a_valid_png_of_the_stated_size)
{
	char dir[64], path[96];
	size_t len = 0;
	tmpdir(dir);
	snprintf(path, sizeof(path), "%s/heat.png", dir);
	REQUIRE_EQ(run(cmd_damon, "damon", "--ticks", "400", "--rows", "8", "--out", path), 0);
	unsigned char *png = slurp(path, &len);
	EXPECT_TRUE(png != NULL && len > 33);
	if (!png)
		return;
	EXPECT_TRUE(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	/* Chunks: IHDR, IDAT, IEND, each CRC over type and data. */
	size_t off = 8, idat = 0, idat_len = 0;
	int chunks = 0;
	uint32_t w = 0, h = 0;
	while (off + 12 <= len) {
		uint32_t n = be32(png + off);
		REQUIRE_EQ(off + 12 + n <= len, 1);
		EXPECT_EQ(crc32(png + off + 4, n + 4), be32(png + off + 8 + n));
		if (!memcmp(png + off + 4, "IHDR", 4)) {
			w = be32(png + off + 8);
			h = be32(png + off + 12);
			EXPECT_EQ(png[off + 16], 8);	/* bit depth */
			EXPECT_EQ(png[off + 17], 2);	/* RGB */
		} else if (!memcmp(png + off + 4, "IDAT", 4)) {
			idat = off + 8;
			idat_len = n;
		}
		chunks++;
		off += 12 + n;
	}
	EXPECT_EQ(chunks, 3);
	EXPECT_EQ(off, len);
	/* The layout of peimm damon: 170 + 20 columns * 10 + 230 wide, 64 + 8 rows * 14 + 90. */
	EXPECT_EQ(w, 170 + 20 * 10 + 230);
	EXPECT_EQ(h, 64 + 8 * 14 + 90);
	/* zlib header, stored blocks whose payload is h rows of (filter byte + 3w), Adler-32. */
	REQUIRE_EQ(idat != 0, 1);
	const unsigned char *z = png + idat;
	EXPECT_EQ((z[0] * 256 + z[1]) % 31, 0);
	size_t zo = 2, raw = 0;
	uint32_t a = 1, b = 0;
	int last = 0;
	while (!last && zo + 5 <= idat_len) {
		last = z[zo] & 1;
		EXPECT_EQ(z[zo] & 6, 0);	/* BTYPE 00: stored */
		size_t n = z[zo + 1] | (size_t)z[zo + 2] << 8;
		EXPECT_EQ(n ^ 0xffff, (size_t)(z[zo + 3] | z[zo + 4] << 8));
		zo += 5;
		REQUIRE_EQ(zo + n <= idat_len, 1);
		for (size_t i = 0; i < n; i++) {
			a = (a + z[zo + i]) % 65521;
			b = (b + a) % 65521;
		}
		raw += n;
		zo += n;
	}
	EXPECT_EQ(last, 1);
	EXPECT_EQ(raw, (size_t)h * (1 + 3 * (size_t)w));
	EXPECT_EQ(zo + 4, idat_len);
	EXPECT_EQ(be32(z + zo), (b << 16) | a);
	free(png);
	unlink(path);
	rmdir(dir);
}

TEST(damon_svg_has_every_cell_and_shows_hot_and_cold_apart)
{
	char dir[64], path[96];
	size_t len = 0;
	tmpdir(dir);
	snprintf(path, sizeof(path), "%s/heat.svg", dir);
	REQUIRE_EQ(run(cmd_damon, "damon", "--ticks", "600", "--rows", "16", "--out", path), 0);
	char *svg = (char *)slurp(path, &len);
	REQUIRE_EQ(svg != NULL, 1);
	EXPECT_TRUE(!strncmp(svg, "<?xml", 5) && strstr(svg, "<svg ") && strstr(svg, "</svg>\n"));
	EXPECT_EQ(count(svg, "<rect class=\"cell\""), 16 * 30);
	EXPECT_EQ(count(svg, "<"), count(svg, ">"));
	EXPECT_TRUE(strstr(svg, "hot: read every tick") && strstr(svg, "cold: written once") &&
		    strstr(svg, "moving hot spot") && strstr(svg, "0x200000000000"));
	/* Last column: the hot row (0) at the top of the ramp, the cold rows (4..7) idle. */
	char want_hot[96], want_cold[96];
	snprintf(want_hot, sizeof(want_hot), "x=\"%d\" y=\"%d\" width=\"10\" height=\"14\" "
		 "fill=\"#ffe678\"", 170 + 29 * 10, 64);
	snprintf(want_cold, sizeof(want_cold), "x=\"%d\" y=\"%d\" width=\"10\" height=\"14\" "
		 "fill=\"#181830\"", 170 + 29 * 10, 64 + 6 * 14);
	EXPECT_TRUE(strstr(svg, want_hot) != NULL);
	EXPECT_TRUE(strstr(svg, want_cold) != NULL);
	free(svg);
	unlink(path);
	rmdir(dir);
}

TEST(maps_svg_draws_every_region_of_the_demo_with_its_name)
{
	char dir[64], path[96];
	size_t len = 0;
	tmpdir(dir);
	snprintf(path, sizeof(path), "%s/maps.svg", dir);
	REQUIRE_EQ(run(cmd_maps, "maps", "--svg", path, NULL, NULL, NULL, NULL), 0);
	char *svg = (char *)slurp(path, &len);
	REQUIRE_EQ(svg != NULL, 1);
	EXPECT_TRUE(strstr(svg, "<svg ") && strstr(svg, "</svg>\n"));
	EXPECT_EQ(count(svg, "<"), count(svg, ">"));
	EXPECT_EQ(count(svg, "<g class=\"vma\">"), 10);
	EXPECT_TRUE(strstr(svg, ">[heap]<") && strstr(svg, ">[stack]<") && strstr(svg, ">[vdso]<"));
	EXPECT_TRUE(strstr(svg, ">data.bin<") && strstr(svg, ">[anon]<") && strstr(svg, ">[vsyscall]<"));
	EXPECT_TRUE(strstr(svg, "the non-canonical hole and the kernel half") != NULL);
	EXPECT_TRUE(count(svg, "<g class=\"gap\">") >= 3);
	EXPECT_TRUE(strstr(svg, "3M, rss 1M") != NULL);	/* the region a quarter touched */
	EXPECT_TRUE(strstr(svg, "class=\"rss\"") != NULL);
	free(svg);
	unlink(path);
	rmdir(dir);
}

/* Writes a scenario: p maps 2M, writes all of it, then keeps writing the first 512K with
 * one tick after each write (ticks extra ticks in all). */
static void write_scenario(const char *path, int ticks)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "token u user=S-1-5-21-1-1001\nspawn p u\n"
		   "$a = p mmap 0 2M PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS -1 0\n"
		   "fill p $a 2M 1\n");
	for (int i = 0; i < ticks; i++)
		fprintf(f, "fill p $a 512K 2\ntick 1\n");
	fclose(f);
}

TEST(damon_draws_a_scenarios_process_over_its_ticks)
{
	char dir[64], pmm[96], svg_path[96];
	size_t len = 0;
	tmpdir(dir);
	snprintf(pmm, sizeof(pmm), "%s/s.pmm", dir);
	snprintf(svg_path, sizeof(svg_path), "%s/s.svg", dir);
	write_scenario(pmm, 200);
	REQUIRE_EQ(run(cmd_damon, "damon", "--rows", "16", "--out", svg_path, pmm, "p"), 0);
	char *svg = (char *)slurp(svg_path, &len);
	REQUIRE_EQ(svg != NULL, 1);
	EXPECT_EQ(count(svg, "<rect class=\"cell\""), 16 * 10);	/* 200 ticks = 10 columns */
	EXPECT_TRUE(strstr(svg, "(gaps cut, marked ~)") != NULL);
	EXPECT_TRUE(strstr(svg, ">[stack]<") != NULL);
	EXPECT_TRUE(count(svg, "<line class=\"gap\"") >= 1);
	/* The first row is the start of the 2M mapping, written every tick: hot at the end. */
	char want_hot[96];
	snprintf(want_hot, sizeof(want_hot), "x=\"%d\" y=\"%d\" width=\"10\" height=\"14\" "
		 "fill=\"#ffe678\"", 170 + 9 * 10, 64);
	EXPECT_TRUE(strstr(svg, want_hot) != NULL);
	free(svg);
	/* Too few ticks for one aggregation, or no such process: a message and status 1. */
	write_scenario(pmm, 10);
	EXPECT_EQ(run(cmd_damon, "damon", "--out", svg_path, pmm, "p", NULL, NULL), 1);
	EXPECT_EQ(run(cmd_damon, "damon", "--out", svg_path, pmm, "nosuch", NULL, NULL), 1);
	unlink(pmm);
	unlink(svg_path);
	rmdir(dir);
}
