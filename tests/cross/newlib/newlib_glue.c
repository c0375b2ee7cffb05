/*
 * tests/cross/newlib/newlib_glue.c — what newlib needs from a bare-metal
 * image, and nothing that allocates: the system calls behind stdio (_write
 * to the arch console; the rest as for a console-only device). errno needs
 * nothing: the libc shim's default hook writes newlib's *__errno() (the
 * demo's errno checks prove it). No _sbrk: with the shim,
 * nothing may need one (tools/cmake/check_libc_allocator.cmake checks);
 * sbrk_heap.c gives the images that use newlib's own malloc a static heap.
 */
#include <errno.h>
#include <reent.h>
#include <sys/stat.h>

#include <arch/arch.h>
#include <arch/target.h>

int _write(int fd, const char *buf, int len)
{
	(void)fd;
	kmm_arch_console_write(buf, (size_t)len);
	return len;
}

int _read(int fd, char *buf, int len)
{
	(void)fd;
	(void)buf;
	(void)len;
	return 0;
}

int _close(int fd)
{
	(void)fd;
	return -1;
}

int _lseek(int fd, int offset, int whence)
{
	(void)fd;
	(void)offset;
	(void)whence;
	return 0;
}

int _fstat(int fd, struct stat *st)
{
	(void)fd;
	st->st_mode = S_IFCHR;
	return 0;
}

int _isatty(int fd)
{
	(void)fd;
	return 1;
}

int _getpid(void) { return 1; }

int _kill(int pid, int sig)
{
	(void)pid;
	(void)sig;
	errno = EINVAL;
	return -1;
}

void _exit(int status) { kmm_arch_exit(status); }
