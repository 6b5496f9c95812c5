/*
 * smaps and pagemap over file mappings (SPEC §3, §10): page-cache pages are file pages
 * (pagemap bit 61), clean until written, dirty until writeback; a private copy-on-write
 * turns a page anonymous.
 */
#include "file_env.h"
#include "proc_test.h"

#define FW 0x200000000000L

/* A read maps the cached page clean and private (one mapper); a write to a private
 * mapping replaces it with an anonymous dirty copy, which loses the file bit. */
TEST(smaps_private_file_page_turns_anonymous_on_write)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDONLY);
	EXPECT_EQ(SC(t, SYS_mmap, FW, PG, RW, MAP_PRIVATE | MAP_FIXED, fd, 0), FW);
	EXPECT_EQ(peek(t, FW), 'h');
	EXPECT_EQ(smaps_kb(t, FW, "Rss"), 4);
	EXPECT_EQ(smaps_kb(t, FW, "Private_Clean"), 4);
	EXPECT_EQ(smaps_kb(t, FW, "Anonymous"), 0);
	EXPECT_TRUE(pagemap_at(t, 0, FW) & PM_E_FILE);
	EXPECT_EQ(poke(t, FW, 'H'), 1);
	EXPECT_EQ(smaps_kb(t, FW, "Private_Clean"), 0);
	EXPECT_EQ(smaps_kb(t, FW, "Private_Dirty"), 4);
	EXPECT_EQ(smaps_kb(t, FW, "Anonymous"), 4);
	EXPECT_EQ(pagemap_at(t, 0, FW) & PM_E_FILE, 0);
	/* No "me": the open file grants no execute right (SPEC §3), so peimm clears
	 * VM_MAYEXEC where Linux would clear it only on a noexec mount. */
	EXPECT_STREQ(vmflags_at(t, 0, FW), "rd wr mr mw ac ");
	fenv_close(&f);
}

/* A shared file page written through the mapping is private dirty (its PTE's D bit);
 * msync writes it back, the page turns clean in smaps and meminfo's Dirty is 0. */
TEST(smaps_shared_file_page_is_clean_after_msync)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDWR);
	EXPECT_EQ(SC(t, SYS_mmap, FW, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), FW);
	EXPECT_EQ(poke(t, FW, 'H'), 1);
	EXPECT_EQ(smaps_kb(t, FW, "Private_Dirty"), 4);
	EXPECT_EQ(smaps_kb(t, FW, "Anonymous"), 0);
	char text[8192];
	EXPECT_EQ(SC(t, SYS_msync, FW, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, FW, "Private_Dirty"), 0);
	EXPECT_EQ(smaps_kb(t, FW, "Private_Clean"), 4);
	EXPECT_STREQ(vmflags_at(t, 0, FW), "rd wr sh mr mw ms ");
	snprintf(text, sizeof(text), "\n%.*s", (int)sizeof(text) - 2, proc_text(t, -1, "meminfo"));
	EXPECT_EQ(field_of(text, "Dirty"), 0);
	EXPECT_TRUE(field_of(text, "Cached") >= 4);
	fenv_close(&f);
}
