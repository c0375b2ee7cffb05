/*
 * arch/common/target.cpp — the part of the arch contract that is the same
 * on every bare-metal arch (ARM M/A profiles, RISC-V): console output,
 * panic and exit through the board hooks, the counter through the board,
 * the semihosting console loop, and the weak board-hook defaults
 * (semihosting console and exit). Each arch supplies the rest: the
 * semihosting trap (kmm_semihost_call) and exit block (kmm_semihost_exit),
 * IRQ masking, the CPU id and the default counter.
 */
#include <arch/arch.h>
#include <arch/target.h>

extern "C" {

void kmm_semihost_write(const char *text, size_t len)
{
	char chunk[64];
	while (len > 0) {
		size_t n = 0;
		/* A NUL inside text would end SYS_WRITE0 early: skip it. */
		while (n < sizeof(chunk) - 1 && len > 0) {
			if (*text != '\0')
				chunk[n++] = *text;
			++text;
			--len;
		}
		chunk[n] = '\0';
		kmm_semihost_call(KMM_SEMIHOST_SYS_WRITE0, reinterpret_cast<uintptr_t>(chunk));
	}
}

__attribute__((weak)) void kmm_board_console_write(const char *text, size_t len)
{
	kmm_semihost_write(text, len);
}

__attribute__((weak)) void kmm_board_exit(int status)
{
	kmm_semihost_exit(status);
}

void kmm_arch_console_write(const char *text, size_t len)
{
	kmm_board_console_write(text, len);
}

void kmm_arch_exit(int status)
{
	kmm_arch_irq_save();
	/* A host sees the low byte of an exit status (QEMU exits with the
	 * status as given): 256, 512 or -256 would read as 0, a pass. */
	if (status != KMM_EXIT_OK && (status & 0xff) == 0)
		status = KMM_EXIT_STATUS_MAX;
	kmm_board_exit(status);
	for (;;)
		__asm__ volatile("wfi");
}

void kmm_arch_panic(const char *message)
{
	static const char kPrefix[] = "kmm panic: ";
	kmm_arch_irq_save();
	size_t n = 0;
	while (message[n] != '\0')
		++n;
	kmm_arch_console_write(kPrefix, sizeof(kPrefix) - 1);
	kmm_arch_console_write(message, n);
	kmm_arch_console_write("\n", 1);
	kmm_arch_exit(KMM_EXIT_PANIC);
}

void kmm_arch_panic_unexpected(const char *what, unsigned long id)
{
	char message[64] = "unexpected ";
	size_t n = 11;
	while (*what != '\0' && n < sizeof(message) - 23)
		message[n++] = *what++;
	message[n++] = ' ';
	char digits[20];
	size_t k = 0;
	do
		digits[k++] = static_cast<char>('0' + id % 10);
	while ((id /= 10) != 0);
	while (k > 0)
		message[n++] = digits[--k];
	message[n] = '\0';
	kmm_arch_panic(message);
}

uint64_t kmm_arch_counter(void)
{
	return kmm_board_counter();
}

} // extern "C"
