/*
 * kernel/report.cpp — the report printed at the end of a boot: mm's pages,
 * buddyinfo, slabinfo and the slab path counters, misuse and OOM counts,
 * validate() of both layers, mm's footprint in this image (flash from the
 * linker's __kmm_mm_* symbols; RAM = static data + page descriptors + slab
 * metadata), the deepest the stack ever got (painted at boot) and the
 * counter since reset. Also the stack painting itself. Returns the
 * problems found: validate()'s, plus one for a stack that reached its end.
 */
#include <kernel/boot.h>

#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/printk.h>
#include <kmm/kmm.h>

extern "C" {
/* linker/cortex-m.ld or linker/ram.ld */
extern char __kmm_mm_text_start[], __kmm_mm_text_end[];
extern char __kmm_mm_rodata_start[], __kmm_mm_rodata_end[];
extern char __kmm_mm_data_start[], __kmm_mm_data_end[];
extern char __kmm_mm_bss_start[], __kmm_mm_bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
}

namespace {

constexpr uint32_t kStackPattern = 0x57ac57acu;

size_t span(const char *start, const char *end) { return static_cast<size_t>(end - start); }

size_t stack_peak_bytes()
{
	const uint32_t *p = __stack_bottom;
	while (p < __stack_top && *p == kStackPattern)
		++p;
	return static_cast<size_t>(__stack_top - p) * sizeof(uint32_t);
}

} // namespace

void stack_paint(void)
{
	/* Below this frame, with a margin for the calls that follow. */
	auto *limit = static_cast<uint32_t *>(__builtin_frame_address(0)) - 32;
	for (uint32_t *p = __stack_bottom; p < limit; ++p)
		*reinterpret_cast<volatile uint32_t *>(p) = kStackPattern;
}

unsigned long report_print(void)
{
	uint64_t ticks = kmm_arch_counter() - boot_info.counter_at_boot;
	size_t text = span(__kmm_mm_text_start, __kmm_mm_text_end);
	size_t rodata = span(__kmm_mm_rodata_start, __kmm_mm_rodata_end);
	size_t data = span(__kmm_mm_data_start, __kmm_mm_data_end);
	size_t bss = span(__kmm_mm_bss_start, __kmm_mm_bss_end);
	size_t stack_size = static_cast<size_t>(__stack_top - __stack_bottom) * sizeof(uint32_t);

	printk("---- kmm report ----\n");
	printk("pages:     %zu managed, %zu free, %zu reserved; page size %lu B, max order %u\n", kmm_managed_pages(),
	       kmm_free_pages(), kmm_reserved_pages(), static_cast<unsigned long>(PAGE_SIZE), KMM_MAX_ORDER);
	printk("buddyinfo:\n");
	kmm_buddyinfo(console_sink, nullptr);
	printk("slabinfo:\n");
	kmm_slabinfo(console_sink, nullptr);
	printk("slabstats:\n");
	kmm_slabstats(console_sink, nullptr);
	printk("misuse:    %lu reports since boot, OOM hook ran %lu times\n", kmm_bug_count(),
	       kmm_oom_count());
	unsigned long page_problems = kmm_validate();
	unsigned long slab_problems = kmm_slab_validate();
	printk("validate:  kmm_validate() %lu problems, kmm_slab_validate() %lu problems\n", page_problems,
	       slab_problems);
	size_t ram = data + bss + kmm_memmap_bytes() + boot_info.slab_boot_bytes;
	printk("footprint: mm flash %zu B (text %zu + rodata %zu)\n", text + rodata, text, rodata);
	printk("footprint: mm RAM %zu B = static %zu (data %zu + bss %zu) + page descriptors %zu + slab metadata "
	       "%zu (%u caches at boot)\n",
	       ram, data + bss, data, bss, kmm_memmap_bytes(), boot_info.slab_boot_bytes, boot_info.slab_boot_caches);
	/* The lowest word written: the stack reached its end and most likely
	 * went past it (into .bss on the RAM-loaded boards; off the start of
	 * RAM on Cortex-M). A problem of the boot, like a validate one. */
	size_t peak = stack_peak_bytes();
	unsigned long stack_problems = peak >= stack_size ? 1 : 0;
	if (stack_problems != 0)
		printk("stack:     peak %zu of %zu B: OVERFLOW, the lowest word was written; raise KMM_STACK_SIZE\n",
		       peak, stack_size);
	else
		printk("stack:     peak %zu of %zu B\n", peak, stack_size);
	printk("counter:   %llu %s since boot\n", static_cast<unsigned long long>(ticks), kmm_board_counter_unit());
	printk("---- end of report ----\n");
	return page_problems + slab_problems + stack_problems;
}
