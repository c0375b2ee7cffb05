/*
 * tests/cross/main.cpp — the smallest image that uses mm/ on a target: hand
 * the linker's free RAM to kmm, allocate and free pages, validate, run the
 * C++ wrappers of kmm/kmm.hpp built freestanding (kmm_hpp_check.cpp).
 * Exists to prove the cross build links with -nostdlib -lgcc and no libc,
 * and to show the image size. Console and exit go through semihosting, so
 * it also boots on QEMU's lm3s6965evb (same memory map as
 * linker/generic-cortex-m3.ld).
 */
#include <arch/arch.h>
#include <arch/target.h>
#include <kmm/kmm.h>

#include "kmm_hpp_check.h"

extern "C" char __kmm_free_start[], __kmm_free_end[];

namespace {

void say(const char *text)
{
	size_t n = 0;
	while (text[n] != '\0')
		++n;
	kmm_arch_console_write(text, n);
}

int check(bool ok, const char *what)
{
	say(ok ? "ok - " : "not ok - ");
	say(what);
	say("\n");
	return ok ? 0 : 1;
}

} // namespace

extern "C" int kmm_main(void)
{
	int failed = 0;
	uintptr_t start = reinterpret_cast<uintptr_t>(__kmm_free_start);
	size_t size = static_cast<size_t>(__kmm_free_end - __kmm_free_start);
	failed += check(kmm_add_region(start, size, KMM_ZONE_NORMAL) == 0, "kmm_add_region");
	failed += check(kmm_init() == 0, "kmm_init");
	size_t free_before = kmm_free_pages();
	failed += check(free_before > 0, "free pages after init");

	struct page *one = alloc_pages(GFP_KERNEL, 0);
	struct page *two = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	failed += check(one != nullptr && two != nullptr, "alloc_pages");
	failed += check(kmm_free_pages() == free_before - 3, "free count after alloc");
	if (two != nullptr) {
		const unsigned char *p = static_cast<const unsigned char *>(page_address(two));
		bool zero = true;
		for (size_t i = 0; i < 2 * PAGE_SIZE; ++i)
			zero = zero && p[i] == 0;
		failed += check(zero, "__GFP_ZERO");
	}
	__free_pages(one, 0);
	__free_pages(two, 1);
	failed += check(kmm_free_pages() == free_before, "free count after __free_pages");
	failed += check(kmm_validate() == 0, "kmm_validate");
	failed += kmm_hpp_check(check);
	/* 64-bit arithmetic: pulls __aeabi_uldivmod from libgcc, which is allowed. */
	uint64_t counter = kmm_arch_counter();
	failed += check(counter / (free_before + 1) <= counter, "libgcc 64-bit division");
	say(failed == 0 ? "cross image: all checks passed\n" : "cross image: FAILED\n");
	return failed == 0 ? KMM_EXIT_OK : KMM_EXIT_TEST_FAILED;
}
