/*
 * tests/host/test_printk.cpp — kernel/printk.cpp on the host, its console
 * replaced by a string: a text up to KMM_PRINTK_BUFFER characters comes out
 * whole, a longer one is cut to that length and ends in "...\n".
 */
#include <gtest/gtest.h>

#include <string>

#include <kernel/printk.h>

namespace {
std::string g_console;
}

/* The arch console of this test binary (no kmm_arch linked). */
extern "C" void kmm_arch_console_write(const char *text, size_t len) { g_console.append(text, len); }

namespace {

std::string print(const std::string &text)
{
	g_console.clear();
	printk("%s", text.c_str());
	return g_console;
}

TEST(Printk, TextsUpToTheBufferLengthComeOutWhole)
{
	for (size_t len : {size_t{0}, size_t{1}, size_t{KMM_PRINTK_BUFFER - 5}, size_t{KMM_PRINTK_BUFFER - 1},
			   size_t{KMM_PRINTK_BUFFER}}) {
		std::string text(len, 'a');
		if (len > 0)
			text.back() = '\n';
		EXPECT_EQ(print(text), text) << len << " characters";
	}
}

TEST(Printk, LongerTextsAreCutToTheBufferLengthWithDotsAndALineEnd)
{
	for (size_t len : {size_t{KMM_PRINTK_BUFFER + 1}, size_t{KMM_PRINTK_BUFFER + 2}, size_t{1000}}) {
		std::string text(len, 'b');
		std::string out = print(text);
		ASSERT_EQ(out.size(), size_t{KMM_PRINTK_BUFFER}) << len;
		EXPECT_EQ(out.substr(0, KMM_PRINTK_BUFFER - 4), text.substr(0, KMM_PRINTK_BUFFER - 4)) << len;
		EXPECT_EQ(out.substr(KMM_PRINTK_BUFFER - 4), "...\n") << len;
	}
}

TEST(Printk, FormatsItsArguments)
{
	g_console.clear();
	printk("%s=%d %lx|%-4u|\n", "n", -7, 0xbeefUL, 12u);
	EXPECT_EQ(g_console, "n=-7 beef|12  |\n");
}

} // namespace
