/*
 * kernel/boot.cpp — the kernel's main line: board (early console, counter)
 * → banner → mm from the board's memory map → slab layer (the kmem_cache
 * boot cache, then the kmalloc caches) → self-tests → workload → report →
 * exit status (0 only if every test and the workload passed and validate()
 * of both layers finds nothing at the end). The steps up to the slab layer
 * run from .preinit_array (boot_early), before the C++ static constructors,
 * so a global constructor may allocate; the rest is kmm_main, which the
 * arch startup calls after the constructors.
 */
#include <kernel/boot.h>

#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/workload.h>
#include <kmm/kmm.h>

#ifndef KMM_BOARD_NAME
#define KMM_BOARD_NAME "unknown board"
#endif
#ifndef KMM_BOARD_CPU
#define KMM_BOARD_CPU "unknown cpu"
#endif

struct kmm_boot_info boot_info;

namespace {

const char *zone_name(unsigned zone) { return zone == KMM_ZONE_DMA ? "DMA" : "Normal"; }

/* Every report from mm becomes a TAP comment line. */
void report_line(void *, const char *line) { printk("# kmm: %s\n", line); }

void mm_init_from_board()
{
	boot_info.nr_regions = kmm_board_memory_map(boot_info.regions, KMM_BOOT_MAX_REGIONS);
	if (boot_info.nr_regions == 0)
		panic("board %s hands no RAM to mm", KMM_BOARD_NAME);
	for (size_t i = 0; i < boot_info.nr_regions; ++i) {
		const kmm_board_region &r = boot_info.regions[i];
		printk("mm: region %zu [%#010lx-%#010lx) %6zu KiB %-6s %s\n", i, static_cast<unsigned long>(r.start),
		       static_cast<unsigned long>(r.start + r.size), r.size >> 10, zone_name(r.zone), r.name);
		int err = kmm_add_region(r.start, r.size, r.zone);
		if (err != 0)
			panic("kmm_add_region(%#lx, %zu, %s) failed: %d", static_cast<unsigned long>(r.start), r.size,
			      zone_name(r.zone), err);
		boot_info.zone_bytes[r.zone < 2 ? r.zone : 0] += r.size;
	}
	int err = kmm_init();
	if (err != 0)
		panic("kmm_init failed: %d", err);
	printk("mm: %zu pages of %lu B managed (%zu KiB), %zu free, %zu B of page descriptors\n",
	       kmm_managed_pages(), static_cast<unsigned long>(PAGE_SIZE), static_cast<size_t>((kmm_managed_pages() * PAGE_SIZE) >> 10),
	       kmm_free_pages(), kmm_memmap_bytes());
}

/* Counts the lines a dump writes. */
void count_lines(void *ctx, const char *text, size_t len)
{
	for (size_t i = 0; i < len; ++i)
		*static_cast<unsigned *>(ctx) += text[i] == '\n';
}

/* The slab layer starts itself on first use after kmm_init(): its boot
 * cache "kmem_cache" (which holds every cache's struct), then one cache per
 * kmalloc class. Started here, before anything else allocates, so its
 * metadata is measured and every later leak check starts from it. */
void slab_init()
{
	size_t free_before = kmm_free_pages();
	size_t max = kmalloc_max_cache_size();
	if (max == 0)
		panic("slab layer did not start (kmalloc caches missing)");
	boot_info.slab_boot_bytes = (free_before - kmm_free_pages()) * PAGE_SIZE;
	unsigned lines = 0;
	kmm_slabinfo(count_lines, &lines);
	boot_info.slab_boot_caches = lines > 2 ? lines - 2 : 0; /* two header lines */
	printk("slab: kmem_cache boot cache + kmalloc caches: %u caches, kmalloc-8 … kmalloc-%zu, larger requests "
	       "are pages; %zu B of slab metadata\n",
	       boot_info.slab_boot_caches, max, boot_info.slab_boot_bytes);
}

bool early_done;

/* Board (early console, counter) → banner → mm → slab layer. Runs before
 * the C++ static constructors (the start-up runs .preinit_array first,
 * arch/startup.h), so that one which allocates — new, malloc through the
 * libc shim, kmalloc — finds memory, as it would with newlib's own malloc.
 * Needs nothing constructed: mm's and the kernel's globals are all
 * constant-initialised (.data/.bss), which the start-up set up before. */
void boot_early()
{
	kmm_board_init();
	stack_paint();
	boot_info.counter_at_boot = kmm_arch_counter();
	printk("\nkmm: booting on %s (%s): page size %lu B, max order %u, %u cpu, debug level %d\n",
	       KMM_BOARD_NAME, KMM_BOARD_CPU, static_cast<unsigned long>(PAGE_SIZE), KMM_MAX_ORDER, KMM_NR_CPUS,
	       KMM_DEBUG);

	kmm_set_report_hook(report_line, nullptr);
	mm_init_from_board();
	slab_init();
	early_done = true;
}

__attribute__((used, section(".preinit_array"))) void (*const boot_early_entry)(void) = boot_early;

} // namespace

extern "C" int kmm_main(void)
{
	if (!early_done) /* a start-up that ran no .preinit_array */
		boot_early();

	/* Misuse found while testing is a failed test, not a panic. */
	kmm_set_bug_policy(KMM_BUG_REFUSE);
	unsigned int failed_tests = ktest_run_all();
	kmm_set_bug_policy(KMM_DEBUG >= 1 ? KMM_BUG_PANIC : KMM_BUG_REFUSE);

	/* The self-tests provoke misuse reports on purpose (and account for
	 * them); from here on any report is a failure, also in release builds,
	 * where the policy only refuses and counts. */
	const unsigned long bugs_after_tests = kmm_bug_count();
	unsigned long workload_problems = workload_run_all(KMM_WORKLOAD_SEED);

	unsigned long mm_problems = report_print();
	unsigned long new_bugs = kmm_bug_count() - bugs_after_tests;
	int status = failed_tests == 0 && workload_problems == 0 && mm_problems == 0 && new_bugs == 0
			     ? KMM_EXIT_OK
			     : KMM_EXIT_TEST_FAILED;
	printk("kmm: %u self-tests failed, %lu workload problems, %lu validate/stack problems, %lu misuse reports after "
	       "the self-tests: exit status %d\n",
	       failed_tests, workload_problems, mm_problems, new_bugs, status);
	return status;
}
