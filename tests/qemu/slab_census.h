/*
 * tests/qemu/slab_census.h — how many objects every slab cache has handed
 * out, read from kmm_slabinfo() (the <active_objs> column), and a compare
 * of two censuses against what a test says it holds. Used by the IRQ test
 * (irq_stress.cpp) and the SMP hammer (smp_hammer.cpp) for their "nothing
 * lost" check. Never allocates; call it with no allocation running
 * elsewhere (it is a snapshot per cache, not of all caches at once).
 */
#ifndef KMM_TESTS_QEMU_SLAB_CENSUS_H
#define KMM_TESTS_QEMU_SLAB_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#include <kernel/printk.h>
#include <kmm/kmm.h>

struct slab_census {
	static constexpr unsigned kMaxCaches = 48;
	static constexpr unsigned kNameLen = 24;
	struct Entry {
		char name[kNameLen];
		unsigned long active;
		unsigned long expected_extra; /* what the test says it holds */
	};
	Entry entries[kMaxCaches];
	unsigned count;
	char line[160];
	unsigned line_len;

	void take()
	{
		count = 0;
		line_len = 0;
		kmm_slabinfo(sink, this);
	}

	Entry *find(const char *name)
	{
		for (unsigned i = 0; i < count; ++i)
			if (same(entries[i].name, name))
				return &entries[i];
		return nullptr;
	}

	/* The test holds `n` more objects of cache `name` than at the baseline. */
	void expect_more(const char *name, unsigned long n)
	{
		Entry *e = find(name);
		if (e != nullptr)
			e->expected_extra += n;
	}

	/* Compares `now` with this baseline plus the expected extras; prints
	 * every mismatch; returns the number of mismatching caches. */
	unsigned long compare(const slab_census &now, const char *who) const
	{
		unsigned long problems = 0;
		for (unsigned i = 0; i < count; ++i) {
			const Entry &b = entries[i];
			const Entry *n = const_cast<slab_census &>(now).find(b.name);
			unsigned long want = b.active + b.expected_extra;
			unsigned long got = n != nullptr ? n->active : 0;
			if (got != want) {
				printk("# %s: cache %s has %lu objects in use, expected %lu (%lu before + %lu held)\n", who,
				       b.name, got, want, b.active, b.expected_extra);
				++problems;
			}
		}
		if (now.count != count) {
			printk("# %s: %u caches now, %u at the baseline\n", who, now.count, count);
			++problems;
		}
		return problems;
	}

	/* The name of the kmalloc cache of class `size` (ksize), as mm/kmalloc.cpp
	 * names them: kmalloc-8 … kmalloc-512, kmalloc-1k …; dma: the
	 * dma-kmalloc-<class> twin. */
	static void kmalloc_name(char *out, size_t out_len, size_t size, bool dma = false)
	{
		char digits[24];
		unsigned n = 0;
		bool k = size >= 1024 && size % 1024 == 0;
		for (size_t v = k ? size / 1024 : size; v != 0 || n == 0; v /= 10)
			digits[n++] = static_cast<char>('0' + v % 10);
		const char *prefix = dma ? "dma-kmalloc-" : "kmalloc-";
		size_t i = 0;
		for (; prefix[i] != '\0' && i + 1 < out_len; ++i)
			out[i] = prefix[i];
		while (n > 0 && i + 1 < out_len)
			out[i++] = digits[--n];
		if (k && i + 1 < out_len)
			out[i++] = 'k';
		out[i] = '\0';
	}

private:
	static bool same(const char *a, const char *b)
	{
		while (*a != '\0' && *a == *b) {
			++a;
			++b;
		}
		return *a == *b;
	}

	void parse_line()
	{
		line[line_len] = '\0';
		static const char kHeader[] = "slabinfo - version";
		bool header = true;
		for (unsigned k = 0; k + 1 < sizeof(kHeader) && header; ++k)
			header = line[k] == kHeader[k];
		if (line_len == 0 || line[0] == '#' || header) {
			line_len = 0;
			return;
		}
		unsigned i = 0, n = 0;
		Entry e{};
		while (line[i] != '\0' && line[i] != ' ' && n + 1 < kNameLen)
			e.name[n++] = line[i++];
		e.name[n] = '\0';
		while (line[i] != '\0' && line[i] != ' ')
			++i;
		while (line[i] == ' ')
			++i;
		while (line[i] >= '0' && line[i] <= '9')
			e.active = e.active * 10 + static_cast<unsigned long>(line[i++] - '0');
		if (count < kMaxCaches && n != 0)
			entries[count++] = e;
		line_len = 0;
	}

	static void sink(void *ctx, const char *text, size_t len)
	{
		auto *self = static_cast<slab_census *>(ctx);
		for (size_t i = 0; i < len; ++i) {
			if (text[i] == '\n')
				self->parse_line();
			else if (self->line_len + 1 < sizeof(self->line))
				self->line[self->line_len++] = text[i];
		}
	}
};

#endif
