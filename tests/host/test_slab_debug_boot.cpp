/*
 * tests/host/test_slab_debug_boot.cpp — the slub_debug boot option: its
 * parser (mm/slab_debug_options.cpp, suite SlubDebugOption) and slab layers
 * booted with it (SlabDebugBoot): one cache or every cache debugged, the
 * boot cache, flags that do not fit a cache dropped, unknown letters
 * refused, kmalloc red zones past the request (kmalloc, krealloc, ksize),
 * and the panic policy. Each test ends with validate() == 0. Built with
 * test_slab_debug.cpp against 4 KiB, 256 B and 64 KiB pages and the hardened build.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "slub.h"
#include "support/poke.h"
#include "support/slab_fixture.h"

namespace {

using kmm_test::peek;
using kmm_test::poke;

TEST(SlubDebugOption, Parses)
{
	bool ok;
	EXPECT_EQ(kmm::parse_slub_debug("", "a", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug("FZPU", "a", &ok), SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
	EXPECT_TRUE(ok);
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmalloc-64", "kmalloc-64", &ok), SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmalloc-64", "kmalloc-32", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmalloc-*", "kmalloc-32", &ok), SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("P,a,b;T,c", "b", &ok), SLAB_POISON);
	EXPECT_EQ(kmm::parse_slub_debug("P,a,b;T,c", "c", &ok), SLAB_TRACE);
	EXPECT_EQ(kmm::parse_slub_debug("-", "a", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug(",dentry", "dentry", &ok), SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
	kmm::parse_slub_debug("FQ", "a", &ok);
	EXPECT_FALSE(ok);
	/* empty blocks are nothing (they used to mean FZPU for every cache) */
	EXPECT_EQ(kmm::parse_slub_debug(";", "a", &ok), 0u);
	EXPECT_TRUE(ok);
	EXPECT_EQ(kmm::parse_slub_debug(";;", "a", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug(";Z,b", "a", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug(";Z,b", "b", &ok), SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("Z,a;;Z,b", "a", &ok), SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("Z,a;;Z,b", "c", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug("Z,a;", "c", &ok), 0u);
	EXPECT_TRUE(ok);
}

/* Blocks are chosen as Linux chooses them (Documentation/mm/slub.rst):
 * the first block with a cache list naming the cache, else the last
 * block without a list. kmm used to take the last block that applied, a
 * list or not: "U,dentry;FZ" gave dentry FZ, not U, and
 * "Z,kmalloc-*;U,kmalloc-32" gave kmalloc-32 U, not Z. A '*' ends the
 * compared prefix wherever it stands, and '-' clears the letters before
 * it, as in Linux. */
TEST(SlubDebugOption, BlocksChooseAsLinuxDoes)
{
	bool ok;
	EXPECT_EQ(kmm::parse_slub_debug("U,dentry;FZ", "dentry", &ok), SLAB_STORE_USER);
	EXPECT_EQ(kmm::parse_slub_debug("U,dentry;FZ", "inode", &ok), SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("FZ;-,zs_handle,zspage", "zspage", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug("FZ;-,zs_handle,zspage", "other", &ok), SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("-,zs_handle;FZ", "zs_handle", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmalloc-*;U,kmalloc-32", "kmalloc-32", &ok), SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmalloc-*;U,kmalloc-32", "kmalloc-64", &ok), SLAB_RED_ZONE);
	EXPECT_EQ(kmm::parse_slub_debug("Z;P;U,a", "b", &ok), SLAB_POISON) << "the last block for every cache";
	EXPECT_EQ(kmm::parse_slub_debug("Z;P;U,a", "a", &ok), SLAB_STORE_USER);
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmal*-32", "kmalloc-64", &ok), SLAB_RED_ZONE) << "'*' ends the prefix";
	EXPECT_EQ(kmm::parse_slub_debug("Z,kmal*-32", "kmem_cache", &ok), 0u);
	EXPECT_EQ(kmm::parse_slub_debug("Z-", "a", &ok), 0u) << "'-' clears the letters before it";
	EXPECT_EQ(kmm::parse_slub_debug("-Z", "a", &ok), SLAB_RED_ZONE);
	EXPECT_TRUE(ok);
}

/* Linux's letters O and A: kmm refused both (an unknown letter rejects
 * the whole option), so "FZPUO" debugged nothing. O gives no flag but
 * holds for every cache whichever block names it; A (failslab) is taken
 * as a no-op, as Linux without CONFIG_FAILSLAB takes it. */
TEST(SlubDebugOption, TakesLinuxLettersOAndA)
{
	bool ok = false, order_off = false;
	const slab_flags_t fzpu = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
	EXPECT_EQ(kmm::parse_slub_debug("FZPUO", "a", &ok, &order_off), fzpu);
	EXPECT_TRUE(ok);
	EXPECT_TRUE(order_off);
	EXPECT_EQ(kmm::parse_slub_debug("FZPU", "a", &ok, &order_off), fzpu);
	EXPECT_FALSE(order_off);
	EXPECT_EQ(kmm::parse_slub_debug("o", "a", &ok, &order_off), 0u) << "O alone turns nothing on";
	EXPECT_TRUE(ok);
	EXPECT_TRUE(order_off);
	EXPECT_EQ(kmm::parse_slub_debug("Z;UO,dentry", "inode", &ok, &order_off), SLAB_RED_ZONE);
	EXPECT_TRUE(order_off) << "O in any block holds for every cache";
	EXPECT_EQ(kmm::parse_slub_debug("ZA,b", "b", &ok, &order_off), SLAB_RED_ZONE);
	EXPECT_TRUE(ok);
	EXPECT_FALSE(order_off);
	EXPECT_EQ(kmm::parse_slub_debug("a", "b", &ok), 0u);
	EXPECT_TRUE(ok);
	kmm::parse_slub_debug("FZO;Q", "a", &ok, &order_off);
	EXPECT_FALSE(ok) << "other unknown letters are still refused";
}

class SlabDebugBoot : public ::testing::Test, public kmm_test::SlabWorld {
protected:
	void boot_with(const char *options)
	{
		ASSERT_EQ(slab.set_debug_options(options), 0);
		boot();
	}
	void TearDown() override { EXPECT_EQ(problems(), 0u); }
	unsigned long check(kmem_cache *s)
	{
		t.cap.clear();
		return slab.validate_slab_cache(s);
	}
	bool said(const std::string &needle) const { return t.cap.count_containing(needle) != 0; }
};

/* slub_debug poisoning the boot cache would overwrite what a destroyed
 * cache's descriptor keeps for a stale pointer (its id, its empty
 * magazine): the boot cache is a ctor cache, which takes no poison, and
 * keeps no magazine even when asked. */
TEST_F(SlabDebugBoot, PoisonOptionLeavesAFreeDescriptorAsDestroyLeftIt)
{
	boot_with("P,kmem_cache");
	EXPECT_EQ(slab.boot_cache()->flags & SLAB_POISON, 0u);
	slab.set_magazine_size(slab.boot_cache(), 8);
	EXPECT_EQ(slab.boot_cache()->mag_capacity, 0u) << "no magazine for the boot cache";
	kmem_cache *s = slab.create("dbg-dead", 64, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	slab.free(s, slab.alloc(s, GFP_KERNEL));
	slab.destroy(s);
	const size_t free_before = pa.totals().free;
	t.cap.clear();
	EXPECT_EQ(slab.alloc(s, GFP_KERNEL), nullptr);
	EXPECT_EQ(t.cap.count_containing("is not a live cache"), 1u);
	EXPECT_EQ(pa.totals().free, free_before);
}

/* A cache whose plain layout fits a slab but whose layout with the boot
 * option's debug flags does not is created without them (as the kmalloc
 * caches are), with a warning; asked-for debug flags still fail. */
TEST_F(SlabDebugBoot, OptionFlagsThatDoNotFitAreDroppedForThatCache)
{
	boot_with("FZPU");
	const unsigned size = static_cast<unsigned>(kmm::kMaxSlabBytes);
	t.cap.clear();
	kmem_cache *s = slab.create("full-slab", size, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	EXPECT_TRUE(said("kmem_cache_create(full-slab): slub_debug flags"));
	EXPECT_TRUE(said("created without them"));
	EXPECT_EQ(s->flags & SLAB_DEBUG_FLAGS, 0u);
	void *p = slab.alloc(s, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	slab.free(s, p);
	slab.destroy(s);
	t.cap.clear();
	EXPECT_EQ(slab.create("full-slab-z", size, 0, SLAB_RED_ZONE, nullptr), nullptr);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	kmem_cache *small = slab.create("small", 64, 0, 0, nullptr);
	ASSERT_NE(small, nullptr);
	EXPECT_NE(small->flags & SLAB_RED_ZONE, 0u) << "the option still applies where it fits";
	slab.destroy(small);
}

/* O: a cache whose red zones, poison pointer or tracks would raise its
 * slab order goes without them (F stays), as Linux's kmem_cache_open
 * does; a cache whose order they leave alone keeps them. Before, "FZPUO"
 * was refused as a whole. */
TEST_F(SlabDebugBoot, LetterOKeepsTheSlabOrderOfPageSizedCaches)
{
	const slab_flags_t metadata = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
	t.cap.clear();
	ASSERT_EQ(slab.set_debug_options("FZPUO"), 0);
	EXPECT_TRUE(t.cap.lines.empty()) << "accepted without a report";
	boot();
	const unsigned page = static_cast<unsigned>(kmm::kPageSize);
	kmem_cache *whole = slab.create("dbg-page", page, 0, 0, nullptr);
	ASSERT_NE(whole, nullptr);
	EXPECT_EQ(whole->flags & metadata, 0u) << "Z P U would need a second page";
	EXPECT_NE(whole->flags & SLAB_CONSISTENCY_CHECKS, 0u);
	EXPECT_EQ(whole->order, 0u);
	kmem_cache *asked = slab.create("dbg-page-z", page, 0, SLAB_RED_ZONE, nullptr);
	ASSERT_NE(asked, nullptr);
	EXPECT_EQ(asked->flags & metadata, 0u) << "O holds for flags the creator asked for too";
	kmem_cache *small = slab.create("dbg-small", 64, 0, 0, nullptr);
	ASSERT_NE(small, nullptr);
	EXPECT_EQ(small->flags & metadata, metadata) << "a 64-byte slot stays on one page";
	/* Every cache the option reached: kept iff its order allows. */
	const slab_flags_t fzpu = SLAB_CONSISTENCY_CHECKS | metadata;
	unsigned kept = 0, dropped = 0;
	auto obeys_o = [&](kmem_cache *k, bool ctor) {
		kmm::CacheLayout with;
		ASSERT_EQ(kmm::calculate_layout(k->object_size, k->align, kmm::normalize_debug_flags(fzpu, ctor), ctor, with),
			  nullptr);
		const bool keep = kmm::page_order_for(with.size) <= kmm::page_order_for(k->object_size);
		const slab_flags_t want = keep ? kmm::normalize_debug_flags(metadata, ctor) & metadata : 0;
		EXPECT_EQ(k->flags & metadata, want) << k->name;
		EXPECT_NE(k->flags & SLAB_CONSISTENCY_CHECKS, 0u) << k->name;
		++(keep ? kept : dropped);
	};
	for (size_t size = 8; size <= 2 * kmm::kPageSize && size <= 8192; size *= 2)
		if (kmem_cache *k = slab.kmalloc_cache(size))
			obeys_o(k, false);
	obeys_o(slab.boot_cache(), true);
	obeys_o(whole, false);
	obeys_o(small, false);
	EXPECT_GT(kept, 0u);
	EXPECT_GT(dropped, 0u);
	void *p = slab.alloc(whole, GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	std::memset(p, 0x5a, page);
	slab.free(whole, p);
	EXPECT_EQ(check(whole), 0u);
	slab.destroy(whole);
	slab.destroy(asked);
	slab.destroy(small);
}

TEST_F(SlabDebugBoot, WithoutLetterOPageSizedCachesAreDebugged)
{
	boot_with("FZPU");
	const unsigned page = static_cast<unsigned>(kmm::kPageSize);
	kmem_cache *whole = slab.create("dbg-page", page, 0, 0, nullptr);
	ASSERT_NE(whole, nullptr);
	EXPECT_NE(whole->flags & SLAB_RED_ZONE, 0u);
	EXPECT_GT(whole->order, 0u);
	slab.destroy(whole);
}

TEST_F(SlabDebugBoot, RefusesAnUnknownLetter)
{
	t.cap.clear();
	EXPECT_EQ(slab.set_debug_options("FX"), -KMM_EINVAL);
	EXPECT_TRUE(said("unknown flag letter"));
	std::string longer(KMM_SLUB_DEBUG_LEN, 'F');
	t.cap.clear();
	EXPECT_EQ(slab.set_debug_options(longer.c_str()), -KMM_EINVAL);
	EXPECT_TRUE(said("at most 127"));
	boot();
	EXPECT_EQ(slab.kmalloc_cache(64)->flags & SLAB_DEBUG_FLAGS, 0u);
}

TEST_F(SlabDebugBoot, WritePastAn18ByteKmallocInA32ByteClass)
{
	boot_with("ZU,kmalloc-32");
	kmem_cache *k32 = slab.kmalloc_cache(18);
	ASSERT_STREQ(k32->name, "kmalloc-32");
	EXPECT_NE(k32->flags & SLAB_RED_ZONE, 0u);
	EXPECT_EQ(slab.kmalloc_cache(64)->flags & SLAB_DEBUG_FLAGS, 0u) << "only the listed cache";
	auto *p = static_cast<uint8_t *>(slab.kmalloc(18, GFP_KERNEL));
	poke(p + 18, 0xab);
	poke(p + 19, 0xab);
	EXPECT_EQ(check(k32), 1u);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_TRUE(said("BUG kmalloc-32: kmalloc Redzone overwritten"));
	EXPECT_TRUE(said("@offset=" + std::to_string(k32->red_left + 18) + ". First byte 0xab instead of 0xcc"));
	EXPECT_EQ(check(k32), 0u);
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 0u);
	for (int round = 0; round < 3; ++round) {
		std::vector<void *> v;
		for (size_t n = 1; n <= 32; ++n) {
			auto *q = static_cast<uint8_t *>(slab.kmalloc(n, GFP_KERNEL));
			ASSERT_NE(q, nullptr);
			std::memset(q, 0x42, n);
			v.push_back(q);
		}
		for (void *q : v)
			slab.kfree(q);
	}
	EXPECT_EQ(check(k32), 0u);
	EXPECT_EQ(t.cap.bug_lines(), 0u);
}

TEST_F(SlabDebugBoot, KreallocRedzoneAndZeroing)
{
	boot_with("ZU,kmalloc-64,kmalloc-128");
	kmem_cache *k64 = slab.kmalloc_cache(64);
	kmem_cache *k128 = slab.kmalloc_cache(128);
	auto *p = static_cast<uint8_t *>(slab.kmalloc(48, GFP_KERNEL));
	std::memset(p, 0xff, 48);
	/* shrink */
	p = static_cast<uint8_t *>(slab.krealloc(p, 40, GFP_KERNEL | __GFP_ZERO));
	for (int i = 40; i < 64; ++i)
		EXPECT_EQ(peek(p + i), 0xcc) << i;
	/* grow within the same 64-byte object */
	p = static_cast<uint8_t *>(slab.krealloc(p, 56, GFP_KERNEL | __GFP_ZERO));
	for (int i = 40; i < 56; ++i)
		EXPECT_EQ(p[i], 0) << i;
	for (int i = 56; i < 64; ++i)
		EXPECT_EQ(peek(p + i), 0xcc) << i;
	EXPECT_EQ(check(k64), 0u);
	std::memset(p, 0xff, 56);
	/* grow into a 128-byte object */
	p = static_cast<uint8_t *>(slab.krealloc(p, 112, GFP_KERNEL | __GFP_ZERO));
	for (int i = 0; i < 56; ++i)
		EXPECT_EQ(p[i], 0xff) << i;
	for (int i = 56; i < 112; ++i)
		EXPECT_EQ(p[i], 0) << i;
	for (int i = 112; i < 128; ++i)
		EXPECT_EQ(peek(p + i), 0xcc) << i;
	EXPECT_EQ(check(k64), 0u);
	EXPECT_EQ(check(k128), 0u);
	EXPECT_EQ(slab.ksize(p), 128u) << "ksize gives the caller the whole object";
	std::memset(p, 1, 128);
	EXPECT_EQ(check(k128), 0u) << "... and moves the kmalloc red zone away";
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 0u);
}

/* A krealloc that moves (or starts from NULL) records its own caller
 * for the new object (Linux: kmalloc_node_track_caller with _RET_IP_),
 * not an address inside kmm's krealloc: the T lines, the U track and
 * leak reports used to name SlabAllocator::krealloc. */
TEST_F(SlabDebugBoot, KreallocRecordsItsCallerForTheNewObject)
{
	boot_with("TU,kmalloc-64,kmalloc-128");
	const void *caller = reinterpret_cast<const void *>(uintptr_t{0x5a5a50});
	t.cap.clear();
	auto *p = static_cast<uint8_t *>(slab.krealloc(nullptr, 48, GFP_KERNEL, caller));
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(t.cap.count_containing("TRACE kmalloc-64 alloc"), 1u);
	EXPECT_EQ(t.cap.count_containing("caller=0x5a5a50"), 1u) << t.cap.last();
	std::memset(p, 0x42, 48);
	t.cap.clear();
	p = static_cast<uint8_t *>(slab.krealloc(p, 100, GFP_KERNEL, caller));
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(t.cap.count_containing("TRACE kmalloc-128 alloc"), 1u);
	EXPECT_EQ(t.cap.count_containing("caller=0x5a5a50"), 1u) << "the new object's alloc";
	for (int i = 0; i < 48; ++i)
		EXPECT_EQ(p[i], 0x42) << i;
	EXPECT_TRUE(slab.dump_object(p));
	EXPECT_TRUE(said("0x5a5a50")) << "the U track of the new object";
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 0u);
	EXPECT_EQ(check(slab.kmalloc_cache(64)), 0u);
	EXPECT_EQ(check(slab.kmalloc_cache(128)), 0u);
}

/* A write past the request, then a krealloc that stays in place or a
 * ksize: the written bytes used to become part of the new request
 * unreported (kfree and validate_slab_cache then found nothing). */
/* kmalloc_size (kmm_kmalloc_size, what the libc shim's realloc asks)
 * gives ksize's value but leaves the kmalloc red zone where the request
 * put it: a later write past the request is still caught by kfree. After
 * ksize it would not be (the caller may use all of it). */
TEST_F(SlabDebugBoot, KmallocSizeLeavesTheRedZoneWhereTheRequestPutIt)
{
	boot_with("Z,kmalloc-32");
	auto *p = static_cast<uint8_t *>(slab.kmalloc(18, GFP_KERNEL));
	ASSERT_NE(p, nullptr);
	t.cap.clear();
	EXPECT_EQ(slab.kmalloc_size(p, "realloc"), 32u);
	EXPECT_EQ(t.cap.bug_lines(), 0u);
	poke(p + 20, 0xab);
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_TRUE(said("kmalloc Redzone overwritten"));
	EXPECT_EQ(check(slab.kmalloc_cache(18)), 0u);
}

TEST_F(SlabDebugBoot, KreallocInPlaceAndKsizeReportAWritePastTheRequest)
{
	boot_with("Z,kmalloc-32");
	kmem_cache *k32 = slab.kmalloc_cache(18);
	auto *p = static_cast<uint8_t *>(slab.kmalloc(18, GFP_KERNEL));
	std::memset(p, 0x42, 18);
	poke(p + 20, 0xab);
	t.cap.clear();
	EXPECT_EQ(slab.krealloc(p, 30, GFP_KERNEL), p) << "in place";
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_TRUE(said("BUG kmalloc-32: kmalloc Redzone overwritten"));
	EXPECT_TRUE(said("@offset=" + std::to_string(k32->red_left + 20) + ". First byte 0xab instead of 0xcc"));
	for (int i = 0; i < 18; ++i)
		EXPECT_EQ(p[i], 0x42) << i;
	EXPECT_EQ(check(k32), 0u);
	poke(p + 31, 0xab);
	t.cap.clear();
	EXPECT_EQ(slab.ksize(p), 32u);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_TRUE(said("kmalloc Redzone overwritten"));
	EXPECT_EQ(check(k32), 0u);
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 0u);
	EXPECT_EQ(check(k32), 0u);
}

/* ksize and krealloc of an object freed earlier (deep in its debug
 * cache's freelist, not its head) name a use after free and change
 * nothing; they used to check the free object's patterns as if it were
 * allocated and report its red zone as overwritten. */
TEST_F(SlabDebugBoot, KsizeAndKreallocOfAFreedObjectAreAUseAfterFree)
{
	boot_with("FZP,kmalloc-64");
	kmem_cache *k64 = slab.kmalloc_cache(64);
	void *old = slab.kmalloc(64, GFP_KERNEL);
	void *later = slab.kmalloc(64, GFP_KERNEL);
	ASSERT_NE(old, nullptr);
	ASSERT_NE(later, nullptr);
	slab.kfree(old);
	slab.kfree(later); /* old is no longer the freelist head */
	t.cap.clear();
	EXPECT_EQ(slab.ksize(old), 0u);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_TRUE(said("BUG kmalloc-64: ksize of object")) << t.cap.last();
	EXPECT_TRUE(said("it is already free"));
	EXPECT_FALSE(said("Redzone"));
	t.cap.clear();
	EXPECT_EQ(slab.krealloc(old, 100, GFP_KERNEL), nullptr);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_TRUE(said("krealloc of object")) << t.cap.last();
	EXPECT_FALSE(said("Redzone"));
	EXPECT_EQ(check(k64), 0u);
}

TEST_F(SlabDebugBoot, EveryCacheDebuggedStillWorks)
{
	boot_with("FZPU");
	EXPECT_NE(slab.boot_cache()->flags & SLAB_RED_ZONE, 0u);
	kmem_cache *s = slab.create("user", 100, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	EXPECT_NE(s->flags & SLAB_POISON, 0u);
	EXPECT_EQ(s->cpu[0].mag_limit, 0u) << "debug caches are off the fast path";
	std::vector<void *> v;
	/* every class and a few large blocks; on 64 KiB pages three pages
	 * at every 37 bytes (500 MB) would not fit the arena */
	for (size_t n = 1; n < 3 * std::min<size_t>(kmm::kPageSize, 4096); n += 37)
		v.push_back(slab.kmalloc(n, n % 2 ? GFP_KERNEL : GFP_KERNEL | __GFP_ZERO));
	for (int k = 0; k < 100; ++k)
		v.push_back(slab.alloc(s, GFP_KERNEL));
	for (size_t i = 0; i < v.size(); ++i) {
		ASSERT_NE(v[i], nullptr);
		if (i >= v.size() - 100)
			slab.free(s, v[i]);
		else
			slab.kfree(v[i]);
	}
	for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id) {
		if (kmem_cache *c = slab.cache(id)) {
			EXPECT_EQ(check(c), 0u) << c->name;
		}
	}
	EXPECT_EQ(t.cap.bug_lines(), 0u);
	slab.destroy(s);
}

TEST_F(SlabDebugBoot, PanicPolicyStopsAtTheFirstReport)
{
	boot_with("Z,victim");
	kmem_cache *s = slab.create("victim", 64, 0, 0, nullptr);
	auto *p = static_cast<uint8_t *>(slab.alloc(s, GFP_KERNEL));
	poke(p + 64, 1);
	t.rep.set_policy(KMM_BUG_PANIC);
	EXPECT_DEATH(slab.validate_slab_cache(s), "kmm: bug reported and policy is panic");
	t.rep.set_policy(KMM_BUG_REFUSE);
	EXPECT_EQ(check(s), 1u);
	slab.free(s, p);
	slab.destroy(s);
}

} // namespace
