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

/* sign: '-', '+', ' ' or 0. prefix: "0x"/"0X" before the digits (inside
 * the width, before any zero padding): '#' on a nonzero %x/%X, and every %p.
 * precision: the least number of digits, or -1 for none (then '0' pads). */
void put_number(Out &out, unsigned long long value, unsigned base, bool upper, char sign, unsigned width,
		bool left, bool zero, int precision, bool prefix = false)
{
	char digits[24];
	unsigned n = 0;
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	while (value != 0 || (n == 0 && precision != 0)) { /* C: "%.0d" of 0 is "" */
		digits[n++] = set[value % base];
		value /= base;
	}
	unsigned leading = precision > 0 && static_cast<unsigned>(precision) > n ? static_cast<unsigned>(precision) - n : 0;
	if (precision >= 0)
		zero = false; /* C: a precision overrides the '0' flag */
	unsigned total = leading + n + (sign != 0 ? 1u : 0u) + (prefix ? 2u : 0u);
	unsigned pad = width > total ? width - total : 0;
	if (!left && !zero)
		while (pad-- > 0)
			out.put(' ');
	if (sign != 0)
		out.put(sign);
	if (prefix) {
		out.put('0');
		out.put(upper ? 'X' : 'x');
	}
	if (!left && zero)
		while (pad-- > 0)
			out.put('0');
	while (leading-- > 0)
		out.put('0');
	while (n > 0)
		out.put(digits[--n]);
	if (left)
		while (pad-- > 0)
			out.put(' ');
}

void put_padded(Out &out, const char *s, size_t n, unsigned width, bool left)
{
	size_t pad = width > n ? width - n : 0;
	if (!left)
		while (pad-- > 0)
			out.put(' ');
	for (size_t i = 0; i < n; ++i)
		out.put(s[i]);
	if (left)
		while (pad-- > 0)
			out.put(' ');
}

} // namespace

/* Parses every C99 conversion specification the compiler's printf format
 * check accepts (flags "-+ #0", width and precision as digits or '*',
 * length hh h l ll z j t L), so that each argument is consumed in step even
 * where the conversion is not supported: a skipped argument would shift
 * every later one (a %s reading an integer as a pointer). */
size_t vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	/* widths and precisions are clamped to this: the output never gets
	 * longer than the buffer, so more could only spin */
	const unsigned kMaxField = cap < 65536 ? static_cast<unsigned>(cap) : 65536u;
	Out out{buf, cap, 0};
	for (const char *p = fmt; *p != '\0'; ++p) {
		if (*p != '%') {
			out.put(*p);
			continue;
		}
		++p;
		bool left = false, zero = false, alt = false;
		char plus = 0; /* '+' or ' ': the sign of a non-negative %d */
		for (;; ++p) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				zero = true;
			else if (*p == '#')
				alt = true;
			else if (*p == '+')
				plus = '+';
			else if (*p == ' ')
				plus = plus != 0 ? plus : ' ';
			else if (*p == '\'' || *p == 'I')
				; /* POSIX grouping, glibc's locale digits: accepted, no effect */
			else
				break;
		}
		unsigned width = 0;
		if (*p == '*') {
			int w = va_arg(ap, int);
			if (w < 0) { /* C: a negative width is '-' and its magnitude */
				left = true;
				width = 0u - static_cast<unsigned>(w);
			} else {
				width = static_cast<unsigned>(w);
			}
			++p;
		}
		while (*p >= '0' && *p <= '9') {
			if (width < kMaxField)
				width = width * 10 + static_cast<unsigned>(*p - '0');
			++p;
		}
		/* nothing wider than the buffer can show: no long padding loops
		 * (a '*' of INT_MIN asks for 2^31) */
		width = width < kMaxField ? width : kMaxField;
		int precision = -1;
		if (*p == '.') {
			++p;
			precision = 0;
			if (*p == '*') {
				int v = va_arg(ap, int);
				precision = v < 0 ? -1 : v; /* C: negative is none */
				++p;
			}
			while (*p >= '0' && *p <= '9') {
				if (precision < static_cast<int>(kMaxField))
					precision = precision * 10 + (*p - '0');
				++p;
			}
			precision = precision < static_cast<int>(kMaxField) ? precision : static_cast<int>(kMaxField);
		}
		/* kind: 'h' hh, 'H' h, 'i' int, 'l' long, 'q' long long,
		 * 'z' size_t, 'j' intmax_t, 't' ptrdiff_t */
		char kind = 'i';
		bool long_double = false;
		if (*p == 'h') {
			kind = p[1] == 'h' ? 'h' : 'H';
			p += p[1] == 'h' ? 2 : 1;
		} else if (*p == 'l') {
			kind = p[1] == 'l' ? 'q' : 'l';
			p += p[1] == 'l' ? 2 : 1;
		} else if (*p == 'z' || *p == 'j' || *p == 't') {
			kind = *p++;
		} else if (*p == 'L') {
			long_double = true;
			kind = 'q'; /* GCC: L on an integer conversion is ll */
			++p;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			long long v = kind == 'q' ? va_arg(ap, long long)
				: kind == 'l' ? va_arg(ap, long)
				: kind == 'z' || kind == 't' ? static_cast<long long>(va_arg(ap, ptrdiff_t))
				: kind == 'j' ? static_cast<long long>(va_arg(ap, intmax_t))
				: kind == 'h' ? static_cast<signed char>(va_arg(ap, int))
				: kind == 'H' ? static_cast<short>(va_arg(ap, int))
					      : va_arg(ap, int);
			unsigned long long mag = v < 0 ? 0ull - static_cast<unsigned long long>(v)
						       : static_cast<unsigned long long>(v);
			put_number(out, mag, 10, false, v < 0 ? '-' : plus, width, left, zero, precision);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			unsigned long long v = kind == 'q' ? va_arg(ap, unsigned long long)
				: kind == 'l' ? va_arg(ap, unsigned long)
				: kind == 'z' || kind == 't' ? va_arg(ap, size_t)
				: kind == 'j' ? static_cast<unsigned long long>(va_arg(ap, uintmax_t))
				: kind == 'h' ? static_cast<unsigned char>(va_arg(ap, unsigned int))
				: kind == 'H' ? static_cast<unsigned short>(va_arg(ap, unsigned int))
					      : va_arg(ap, unsigned int);
			unsigned base = *p == 'u' ? 10u : *p == 'o' ? 8u : 16u;
			if (*p == 'o' && alt) { /* C: '#' makes the first digit a 0 */
				int digits = 0;
				for (unsigned long long t = v; t != 0; t /= 8)
					++digits;
				/* zero padding already leads with a 0 (and a precision
				 * here would switch the '0' flag off: "%#08o") */
				bool zero_padded = precision < 0 && zero && !left && width > static_cast<unsigned>(digits);
				if (!zero_padded && precision <= digits)
					precision = digits + 1;
			}
			put_number(out, v, base, *p == 'X', 0, width, left, zero, precision,
				   alt && base == 16 && v != 0);
			break;
		}
		case 'p': {
			uintptr_t v = reinterpret_cast<uintptr_t>(va_arg(ap, void *));
			put_number(out, v, 16, false, 0, width, left, zero, -1, true);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s == nullptr)
				s = "(null)";
			size_t n = 0; /* a precision bounds the read, as in C */
			while ((precision < 0 || n < static_cast<size_t>(precision)) && s[n] != '\0')
				++n;
			put_padded(out, s, n, width, left);
			break;
		}
		case 'c': {
			char c = static_cast<char>(va_arg(ap, int));
			put_padded(out, &c, 1, width, left);
			break;
		}
		case 'n': /* never written to: its pointer is consumed only */
			(void)va_arg(ap, void *);
			break;
		case '%':
			out.put('%');
			break;
		case '\0':
			--p; /* a lone '%' at the end: stop at the NUL */
			break;
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
		case 'a':
		case 'A': /* not printed (no floating point in mm/): consumed, copied */
			if (long_double)
				(void)va_arg(ap, long double);
			else
				(void)va_arg(ap, double);
			out.put('%');
			out.put(*p);
			break;
		default: /* unknown: copied, no argument consumed */
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
