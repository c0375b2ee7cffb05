/*
 * mm/format.h — a small printf for freestanding code: kmm_vsnprintf() into a
 * caller's buffer, and SinkWriter, which formats a line at a time into a
 * kmm_sink_fn. Never allocates. Supports %d %i %u %o %x %X %p %s %c %% with
 * the flags '-', '0', '+', ' ' and '#' (0x prefix on a nonzero %x/%X, as in
 * C), a width and a precision (digits or '*'), and the length modifiers hh,
 * h, l, ll, z, j, t. Floating-point conversions are copied (their argument
 * consumed), %n writes nothing, an unknown conversion is copied.
 */
#ifndef KMM_MM_FORMAT_H
#define KMM_MM_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <kmm/report.h>

namespace kmm {

/* Like vsnprintf: writes at most cap-1 characters and a NUL; returns the
 * number of characters written (not the would-be length). */
size_t vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t format(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Formats into a fixed stack buffer and hands each piece to a sink. */
class SinkWriter {
public:
	SinkWriter(kmm_sink_fn fn, void *ctx) : fn_(fn), ctx_(ctx) {}
	void print(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	void write(const char *text, size_t len) { if (fn_) fn_(ctx_, text, len); }

private:
	kmm_sink_fn fn_;
	void *ctx_;
};

} // namespace kmm

#endif
