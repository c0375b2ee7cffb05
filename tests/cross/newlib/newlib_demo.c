/*
 * tests/cross/newlib/newlib_demo.c — firmware written in C against newlib:
 * printf (stdout's buffer comes from _malloc_r), strdup, asprintf (which
 * grows its buffer with _realloc_r), malloc/calloc/realloc/free, errno on
 * failure, mallinfo/malloc_trim/mallopt/malloc_stats (<malloc.h>) and C++
 * new/delete (cxx_user.cpp). Linked into
 * kmm-<board>-newlib.elf with the libc shim (kernel/lib/libc_shim.cpp):
 * every one of those allocations must be a kmm object (ksize() > 0), and
 * the image's symbol table must hold none of newlib's allocator
 * (tools/cmake/check_libc_allocator.cmake). kmm-<board>-newlib-noshim.elf
 * links the same code without the shim (KMM_NEWLIB_DEMO_NO_SHIM: minus
 * aligned_alloc, which newlib's libc.a cannot link — it calls a
 * posix_memalign the library lacks — and minus C++ new, which would need
 * libsupc++): the negative control, never run.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <malloc.h>
#include <reent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/kmm.h>

int cxx_user_check(void); /* cxx_user.cpp: 0 if every check passed */

static int failures;

static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (!ok)
		++failures;
}

static void report_line(void *ctx, const char *line)
{
	(void)ctx;
	printf("# kmm: %s\n", line);
}

int kmm_main(void)
{
	kmm_board_init();
	struct kmm_board_region regions[8];
	size_t n = kmm_board_memory_map(regions, 8);
	for (size_t i = 0; i < n; ++i)
		if (kmm_add_region(regions[i].start, regions[i].size, regions[i].zone) != 0)
			return 2;
	if (kmm_init() != 0)
		return 2;
	kmm_set_report_hook(report_line, NULL);

	/* The first printf allocates stdout's buffer through _malloc_r. */
	printf("newlib demo: kmm manages %u pages of %u B; newlib's printf, strdup, asprintf and C++ new use it\n",
	       (unsigned)kmm_managed_pages(), (unsigned)PAGE_SIZE);

	char *s = strdup("strdup through newlib");
	check(s != NULL && ksize(s) >= strlen(s) + 1, "strdup's copy is a kmm object");
	char *text = NULL;
	int len = asprintf(&text, "%s %d %s", "asprintf", 42, "grows its buffer with _realloc_r");
	check(len > 0 && text != NULL && ksize(text) >= (size_t)len + 1, "asprintf's buffer is a kmm object");
	free(text);
	free(s);

	unsigned *v = calloc(100, sizeof(unsigned));
	int zero = v != NULL;
	for (int i = 0; zero && i < 100; ++i)
		zero = v[i] == 0;
	check(zero && ksize(v) >= 400, "calloc: zeroed kmm object");
	v = realloc(v, 5000);
	check(v != NULL && ksize(v) >= 5000, "realloc to a large (page) block");
	free(v);

#if !defined(KMM_NEWLIB_DEMO_NO_SHIM)
	void *aligned = aligned_alloc(256, 300);
	check(aligned != NULL && ((unsigned long)aligned & 255) == 0, "aligned_alloc(256, 300)");
	free(aligned);
	check(cxx_user_check() == 0, "C++ new/delete are kmm objects");

	/* newlib's <malloc.h> statistics: newlib's own would link its malloc. */
	struct mallinfo mi = mallinfo();
	check(mi.arena == kmm_managed_pages() * PAGE_SIZE && mi.fordblks == kmm_free_pages() * PAGE_SIZE,
	      "mallinfo: kmm's managed and free pages");
	free(malloc(3000)); /* a kmalloc-4k slab left empty (kept): something to trim */
	size_t free_before_trim = kmm_free_pages();
	int trimmed = malloc_trim(0);
	check(trimmed == (kmm_free_pages() > free_before_trim) && malloc_trim(0) == 0,
	      "malloc_trim: 1 when it gave pages back, then 0");
	check(mallopt(M_TRIM_THRESHOLD, 4096) == 0, "mallopt has nothing to tune");
	fflush(stdout);
	malloc_stats(); /* on kmm's console */
#endif

	errno = 0;
	void *huge = malloc((size_t)-1 / 2);
	check(huge == NULL && errno == ENOMEM, "malloc failure: NULL and errno ENOMEM");
	errno = 0;
	huge = _malloc_r(_REENT, (size_t)-1 / 2);
	check(huge == NULL && errno == ENOMEM, "_malloc_r failure: NULL and errno ENOMEM");
#if !defined(KMM_NEWLIB_DEMO_NO_SHIM) /* newlib's own aligned_alloc needs a posix_memalign it lacks */
	errno = 0;
	check(aligned_alloc(48, 8) == NULL && errno == EINVAL, "aligned_alloc(48): NULL and errno EINVAL");
#endif

	check(kmm_validate() == 0 && kmm_slab_validate() == 0, "kmm_validate and kmm_slab_validate");
	printf("newlib demo: %s\n", failures == 0 ? "all checks passed" : "FAILED");
	fflush(stdout);
	return failures == 0 ? KMM_EXIT_OK : KMM_EXIT_TEST_FAILED;
}
