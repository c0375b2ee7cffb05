/*
 * mm/format.cpp — the freestanding formatter behind reports and dumps.
 * It must never allocate and never fail: output beyond the buffer is dropped.
 */
#include "format.h"

#include <stdint.h>

namespace kmm {
namespace {

struct Out {
	char *buf;
	size_t cap;
	size_t len;
	void put(char c)
	{
		if (len + 1 < cap)
			buf[len++] = c;
	}
};

/* prefix: "0x"/"0X" before the digits (inside the width, before any zero
 * padding): '#' on a nonzero %x/%X, and every %p. */
void put_number(Out &out, unsigned long long value, unsigned base, bool upper, bool negative,
		unsigned width, bool left, bool zero, bool prefix = false)
{
	char digits[24];
	unsigned n = 0;
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		digits[n++] = set[value % base];
		value /= base;
	} while (value != 0);
	unsigned total = n + (negative ? 1u : 0u) + (prefix ? 2u : 0u);
	unsigned pad = width > total ? width - total : 0;
	if (!left && !zero)
		while (pad-- > 0)
			out.put(' ');
	if (negative)
		out.put('-');
	if (prefix) {
		out.put('0');
		out.put(upper ? 'X' : 'x');
	}
	if (!left && zero)
		while (pad-- > 0)
			out.put('0');
	while (n > 0)
		out.put(digits[--n]);
	if (left)
		while (pad-- > 0)
			out.put(' ');
}

} // namespace

size_t vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	Out out{buf, cap, 0};
	for (const char *p = fmt; *p != '\0'; ++p) {
		if (*p != '%') {
			out.put(*p);
			continue;
		}
		++p;
		bool left = false, zero = false, alt = false;
		for (;; ++p) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				zero = true;
			else if (*p == '#')
				alt = true;
			else
				break;
		}
		unsigned width = 0;
		while (*p >= '0' && *p <= '9')
			width = width * 10 + static_cast<unsigned>(*p++ - '0');
		int longs = 0;
		bool size_mod = false;
		while (*p == 'l') {
			++longs;
			++p;
		}
		if (*p == 'z') {
			size_mod = true;
			++p;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			long long v = size_mod ? static_cast<long long>(va_arg(ap, ptrdiff_t))
				: longs >= 2 ? va_arg(ap, long long)
				: longs == 1 ? va_arg(ap, long)
					     : va_arg(ap, int);
			unsigned long long mag = v < 0 ? 0ull - static_cast<unsigned long long>(v)
						       : static_cast<unsigned long long>(v);
			put_number(out, mag, 10, false, v < 0, width, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v = size_mod ? va_arg(ap, size_t)
				: longs >= 2 ? va_arg(ap, unsigned long long)
				: longs == 1 ? va_arg(ap, unsigned long)
					     : va_arg(ap, unsigned int);
			put_number(out, v, *p == 'u' ? 10u : 16u, *p == 'X', false, width, left, zero,
				   alt && *p != 'u' && v != 0);
			break;
		}
		case 'p': {
			uintptr_t v = reinterpret_cast<uintptr_t>(va_arg(ap, void *));
			put_number(out, v, 16, false, false, width, left, zero, true);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s == nullptr)
				s = "(null)";
			size_t n = 0;
			while (s[n] != '\0')
				++n;
			size_t pad = width > n ? width - n : 0;
			if (!left)
				while (pad-- > 0)
					out.put(' ');
			for (size_t i = 0; i < n; ++i)
				out.put(s[i]);
			if (left)
				while (pad-- > 0)
					out.put(' ');
			break;
		}
		case 'c': {
			unsigned pad = width > 1 ? width - 1 : 0;
			if (!left)
				while (pad-- > 0)
					out.put(' ');
			out.put(static_cast<char>(va_arg(ap, int)));
			if (left)
				while (pad-- > 0)
					out.put(' ');
			break;
		}
		case '%':
			out.put('%');
			break;
		case '\0':
			--p; /* a lone '%' at the end: stop at the NUL */
			break;
		default:
			out.put('%');
			out.put(*p);
			break;
		}
	}
	if (cap > 0)
		buf[out.len] = '\0';
	return out.len;
}

size_t format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = vformat(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

void SinkWriter::print(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	size_t n = vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	write(line, n);
}

} // namespace kmm
