/*
 * tests/host/test_format.cpp — the freestanding formatter (mm/format.cpp)
 * behind every report and dump: conversions and flags checked against the
 * C library's snprintf where they share semantics, then kmm's own rules
 * (truncation, never failing, unknown conversions, SinkWriter).
 */
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "format.h"
#include "support/arena.h"

namespace {

/* kmm::format and snprintf on the same arguments must agree. */
#define EXPECT_LIKE_LIBC(...)                                                          \
	do {                                                                           \
		char ours[128], libc[128];                                             \
		size_t n = kmm::format(ours, sizeof ours, __VA_ARGS__);               \
		int m = std::snprintf(libc, sizeof libc, __VA_ARGS__);                 \
		EXPECT_STREQ(ours, libc) << "format " << #__VA_ARGS__;                  \
		EXPECT_EQ(n, static_cast<size_t>(m)) << "format " << #__VA_ARGS__;    \
	} while (0)

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, f);
	kmm::vformat(buf, sizeof buf, f, ap);
	va_end(ap);
	return buf;
}

/* The same without the printf attribute: for formats the compiler would
 * (rightly) warn about, which kmm must still survive. */
std::string fmt_raw(const char *f, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, f);
	kmm::vformat(buf, sizeof buf, f, ap);
	va_end(ap);
	return buf;
}

TEST(Format, SignedDecimal)
{
	EXPECT_LIKE_LIBC("%d", 0);
	EXPECT_LIKE_LIBC("%d", 7);
	EXPECT_LIKE_LIBC("%d", -7);
	EXPECT_LIKE_LIBC("%i", 123456);
	EXPECT_LIKE_LIBC("%d", INT_MAX);
	EXPECT_LIKE_LIBC("%d", INT_MIN);
	EXPECT_LIKE_LIBC("%ld", LONG_MIN);
	EXPECT_LIKE_LIBC("%lld", LLONG_MIN);
	EXPECT_LIKE_LIBC("%lld", LLONG_MAX);
	EXPECT_LIKE_LIBC("%zd", static_cast<ptrdiff_t>(-5));
}

TEST(Format, UnsignedAndHex)
{
	EXPECT_LIKE_LIBC("%u", 0u);
	EXPECT_LIKE_LIBC("%u", UINT_MAX);
	EXPECT_LIKE_LIBC("%lu", ULONG_MAX);
	EXPECT_LIKE_LIBC("%llu", ULLONG_MAX);
	EXPECT_LIKE_LIBC("%zu", SIZE_MAX);
	EXPECT_LIKE_LIBC("%x", 0xdeadbeefu);
	EXPECT_LIKE_LIBC("%X", 0xdeadbeefu);
	EXPECT_LIKE_LIBC("%lx", 0x123456789abcdefUL);
	EXPECT_LIKE_LIBC("%llX", 0xfedcba9876543210ULL);
	EXPECT_LIKE_LIBC("%zx", static_cast<size_t>(4096));
	EXPECT_LIKE_LIBC("%x", 0u);
}

TEST(Format, WidthAndFlags)
{
	EXPECT_LIKE_LIBC("[%5d]", 42);
	EXPECT_LIKE_LIBC("[%-5d]", 42);
	EXPECT_LIKE_LIBC("[%05d]", 42);
	EXPECT_LIKE_LIBC("[%05d]", -42);
	EXPECT_EQ(fmt_raw("[%-05d]", -42), "[-42  ]"); /* '-' wins over '0', as in C */
	EXPECT_LIKE_LIBC("[%2d]", 12345); /* width is a minimum */
	EXPECT_LIKE_LIBC("[%6lu ]", 3UL);  /* buddyinfo's column */
	EXPECT_LIKE_LIBC("[%08x]", 0xbeefu);
	EXPECT_LIKE_LIBC("[%30d]", -1);
	EXPECT_LIKE_LIBC("[%8s]", "Normal");
	EXPECT_LIKE_LIBC("[%8s]", "DMA");
	EXPECT_LIKE_LIBC("[%-6s]", "DMA");
	EXPECT_LIKE_LIBC("[%2s]", "longer");
	EXPECT_LIKE_LIBC("[%s]", "");
	EXPECT_LIKE_LIBC("%c%c%c", 'k', 'm', 'm');
	EXPECT_LIKE_LIBC("[%3c]", 'k'); /* a width pads %c too */
	EXPECT_LIKE_LIBC("[%-3c]", 'k');
	EXPECT_LIKE_LIBC("100%% sure");
	EXPECT_LIKE_LIBC("no conversions at all");
}

TEST(Format, AlternateFormHex)
{
	/* Every address in kmm's reports is printed with %#lx. */
	EXPECT_LIKE_LIBC("%#lx", 0x20001000UL);
	EXPECT_LIKE_LIBC("%#x", 0xabu);
	EXPECT_LIKE_LIBC("%#X", 0xabu);
	EXPECT_LIKE_LIBC("%#x", 0u); /* C: no prefix on zero */
	EXPECT_LIKE_LIBC("[%#10x]", 0xabu);
	EXPECT_LIKE_LIBC("[%#-10x]", 0xabu);
	EXPECT_LIKE_LIBC("[%#010x]", 0xabu);
	EXPECT_LIKE_LIBC("[%#llx]", ULLONG_MAX);
	EXPECT_EQ(fmt_raw("%#u", 17u), "17"); /* '#' means nothing for decimal */
}

TEST(Format, ReportLinesKeepTheirArgumentsInStep)
{
	/* The shape of real reports: a '#' must not desynchronise the rest. */
	EXPECT_EQ(fmt("BUG %s: free of page %#lx (pfn %#lx, order %u) that is %s, not %s", "page_alloc",
		      0x20003000UL, 0x20003UL, 2u, "reserved", "an allocated block"),
		  "BUG page_alloc: free of page 0x20003000 (pfn 0x20003, order 2) that is reserved, not an allocated block");
	EXPECT_EQ(fmt("mode:%#x size %zu at %#lx", 0x14u, size_t{5}, 0x1000UL), "mode:0x14 size 5 at 0x1000");
}

TEST(Format, EveryConversionTheCompilerAcceptsKeepsTheArgumentsInStep)
{
	/* The printf format attribute lets these through; each must consume
	 * exactly its arguments, or the %s after it reads an integer. */
	EXPECT_LIKE_LIBC("[%+d|%s]", 5, "ok");
	EXPECT_LIKE_LIBC("[% d|%s]", 5, "ok");
	EXPECT_LIKE_LIBC("[%+05d|% d|%+d]", 5, -5, INT_MIN);
	EXPECT_LIKE_LIBC("[%hu|%s]", 70000u, "ok");
	EXPECT_LIKE_LIBC("[%hhx|%hhd|%hd|%s]", 0x1ffu, 0x80, 40000, "ok");
	EXPECT_LIKE_LIBC("[%jd|%ju|%td|%s]", INTMAX_MIN, UINTMAX_MAX, static_cast<ptrdiff_t>(-3), "ok");
	EXPECT_LIKE_LIBC("[%*d|%-*d|%*d|%s]", 6, 42, 6, 42, -6, 42, "ok");
	EXPECT_LIKE_LIBC("[%.3s|%.*s|%.0s|%s]", "kmalloc-32", 4, "kmalloc-32", "x", "ok");
	EXPECT_LIKE_LIBC("[%.5d|%8.3d|%.0d|%-6.2x|%s]", 42, -7, 0, 0xau, "ok");
	EXPECT_EQ(fmt_raw("[%08.3d]", 7), "[     007]"); /* C: a precision overrides the 0 flag */
	EXPECT_LIKE_LIBC("[%o|%#o|%#o|%#.4o|%s]", 8u, 8u, 0u, 8u, "ok");
	EXPECT_EQ(fmt("[%f|%s]", 1.5, "ok"), "[%f|ok]"); /* no floating point: copied, consumed */
	EXPECT_EQ(fmt("[%Lg|%s]", 1.5L, "ok"), "[%g|ok]");
	int untouched = 7;
	EXPECT_EQ(fmt("[ab%n|%s]", &untouched, "ok"), "[ab|ok]"); /* %n writes nothing */
	EXPECT_EQ(untouched, 7);
	/* A precision bounds the read of %s: the text need not end in a NUL. */
	const char name[4] = {'d', 'm', 'a', '!'};
	EXPECT_EQ(fmt("%.3s", name), "dma");
	/* glibc's flags ' and I and GCC's L on an integer (= ll) pass the
	 * format check too (the C locale groups nothing) */
	EXPECT_LIKE_LIBC("[%'d|%s]", 1234567, "ok");
	EXPECT_LIKE_LIBC("[%Ld|%Lx|%s]", LLONG_MIN, 0xfedcba9876543210ULL, "ok");
	EXPECT_EQ(fmt("[%Id|%s]", 42, "ok"), "[42|ok]");
	/* '#' on %o with zero padding: the padding already leads with a 0 */
	EXPECT_LIKE_LIBC("[%#08o|%#8o|%#-8o|%#.3o]", 8u, 8u, 8u, 8u);
}

/* A width or precision larger than the buffer is clamped to it: the
 * output is still exactly the buffer's worth of padding (what this checks;
 * before the clamp the same output took 2^31 rounds of the padding loop
 * for a '*' of INT_MIN, which no test here times). */
TEST(Format, HugeWidthsAndPrecisionsAreClampedToTheBuffer)
{
	char buf[16];
	volatile int most_negative = INT_MIN; /* hidden from the format check */
	size_t n = kmm::format(buf, sizeof buf, "%*d|", static_cast<int>(most_negative), 7);
	EXPECT_EQ(n, sizeof buf - 1);
	EXPECT_EQ(std::string(buf), "7              ");
	n = kmm::format(buf, sizeof buf, "%.*d", INT_MAX, 7);
	EXPECT_EQ(std::string(buf), "000000000000000");
	/* The clamped precision also bounds the read of %s: a text with no
	 * NUL is read as far as the buffer shows, not INT_MAX bytes (ASan
	 * reports the overread without the clamp). */
	char unterminated[32];
	std::memset(unterminated, 'a', sizeof unterminated);
	volatile int all = INT_MAX;
	n = kmm::format(buf, sizeof buf, "%.*s", static_cast<int>(all), unterminated);
	EXPECT_EQ(n, sizeof buf - 1);
	EXPECT_EQ(std::string(buf), std::string(sizeof buf - 1, 'a'));
	volatile int w = 2000000000; /* not seen by the format check */
	n = kmm::format(buf, sizeof buf, "[%*s]", static_cast<int>(w), "x");
	EXPECT_EQ(n, sizeof buf - 1);
	EXPECT_EQ(buf[0], '[');
}

TEST(Format, Pointers)
{
	int x = 0;
	char expected[64];
	std::snprintf(expected, sizeof expected, "0x%lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(&x)));
	EXPECT_EQ(fmt("%p", static_cast<void *>(&x)), expected);
	EXPECT_EQ(fmt("%p", static_cast<void *>(nullptr)), "0x0"); /* glibc says "(nil)" */
	EXPECT_EQ(fmt("[%6p]", reinterpret_cast<void *>(0x1f)), "[  0x1f]"); /* as glibc */
	EXPECT_EQ(fmt("[%-6p]", reinterpret_cast<void *>(0x1f)), "[0x1f  ]");
}

TEST(Format, KmmOwnRules)
{
	EXPECT_EQ(fmt_raw("%s", static_cast<const char *>(nullptr)), "(null)");
	EXPECT_EQ(fmt_raw("50%"), "50");   /* a lone '%' at the end is dropped */
	EXPECT_EQ(fmt_raw("a%qb"), "a%qb"); /* unknown conversions are copied */
	EXPECT_EQ(fmt_raw("%5%"), "%");
}

TEST(Format, TruncatesAndAlwaysTerminates)
{
	char buf[8];
	std::memset(buf, 'x', sizeof buf);
	EXPECT_EQ(kmm::format(buf, 5, "hello %s", "world"), 4u);
	EXPECT_STREQ(buf, "hell");
	EXPECT_EQ(buf[5], 'x'); /* nothing written past cap */
	EXPECT_EQ(kmm::format(buf, 1, "%d", 12345), 0u);
	EXPECT_STREQ(buf, "");
	std::memset(buf, 'x', sizeof buf);
	EXPECT_EQ(kmm::format(buf, 0, "%d", 12345), 0u);
	EXPECT_EQ(buf[0], 'x'); /* cap 0: the buffer is not touched */
	EXPECT_EQ(kmm::format(buf, sizeof buf, "%#lx", 0xffffffffffUL), 7u);
	EXPECT_STREQ(buf, "0xfffff");
	EXPECT_EQ(kmm::format(buf, sizeof buf, "[%20s]", "x"), 7u);
	EXPECT_STREQ(buf, "[      ");
}

TEST(Format, SinkWriterHandsEachPieceToTheSink)
{
	kmm_test::TextSink sink;
	kmm::SinkWriter out(&kmm_test::TextSink::sink, &sink);
	out.print("Node %d, zone %8s ", 0, "Normal");
	out.print("%6lu ", 12UL);
	out.write("\n", 1);
	EXPECT_EQ(sink.text, "Node 0, zone   Normal     12 \n");
	/* A piece longer than the writer's line buffer is cut, not overrun. */
	std::string long_arg(300, 'y');
	sink.text.clear();
	out.print("%s", long_arg.c_str());
	EXPECT_EQ(sink.text, std::string(159, 'y'));
	/* No sink: printing is a no-op. */
	kmm::SinkWriter none(nullptr, nullptr);
	none.print("%d", 1);
	none.write("x", 1);
	EXPECT_EQ(sink.text.size(), 159u);
}

} // namespace
