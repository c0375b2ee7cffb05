/*
 * tests/host/valgrind_memcheck.cpp — Valgrind memcheck sees kmm's objects:
 * on a KMM_VALGRIND=1 build, kmm marks free objects unaddressable (mempool
 * client requests, mm/sanitize.h), so memcheck reports a use after free
 * through kmm. Run by CTest under valgrind (tests/host/CMakeLists.txt):
 *   clean     alloc/use/free only: memcheck must report no error
 *   uaf       writes a kmalloc object after kfree: "Invalid write"
 *   cache_uaf reads a kmem_cache object after kmem_cache_free: "Invalid read"
 */
#include <kmm/kmm.h>
#include <kmm/slab.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";
	const size_t size = 256 * KMM_PAGE_SIZE;
	void *ram = std::aligned_alloc(KMM_PAGE_SIZE, size);
	if (ram == nullptr || kmm_add_region(reinterpret_cast<uintptr_t>(ram), size, KMM_ZONE_NORMAL) != 0 ||
	    kmm_init() != 0)
		return 2;
	auto *p = static_cast<volatile char *>(kmalloc(64, GFP_KERNEL));
	struct kmem_cache *s = kmem_cache_create("vg-objs", 48, 0, 0, nullptr);
	auto *o = static_cast<volatile char *>(kmem_cache_alloc(s, GFP_KERNEL));
	if (p == nullptr || s == nullptr || o == nullptr)
		return 3;
	p[0] = 1;
	p[63] = 2;
	o[47] = 3;
	int sink = p[0] + p[63] + o[47];
	kfree(const_cast<char *>(p));
	kmem_cache_free(s, const_cast<char *>(o));
	if (std::strcmp(mode, "uaf") == 0)
		p[8] = 4; /* use after free: memcheck must see it */
	else if (std::strcmp(mode, "cache_uaf") == 0)
		sink += o[40];
	kmem_cache_destroy(s);
	std::printf("valgrind_memcheck %s: done (%d), kmm_validate %lu\n", mode, sink, kmm_validate());
	kmm_shutdown();
	std::free(ram);
	return 0;
}
