/* A stand-in driver library: a real ELF shared object with the real SONAME (set at link time). */
int nvct_fake_library(void) { return 1; }
/* libcuda's first two entry points, so that a program can load and call it. */
int cuInit(unsigned flags) { (void)flags; return 0; }
int cuDriverGetVersion(int *v) { if (!v) return 1; *v = FAKE_CUDA; return 0; }
#ifdef FAKE_CC_MAJOR
/* Device 0's compute capability (Tegra's libcuda, for the runtime's arch requirements). */
int cuDeviceGet(int *d, int ordinal) { if (!d || ordinal != 0) return 101; *d = 0; return 0; }
int cuDeviceGetAttribute(int *v, int attr, int dev)
{
	if (!v || dev != 0) return 101;
	if (attr == 75) { *v = FAKE_CC_MAJOR; return 0; }
	if (attr == 76) { *v = FAKE_CC_MINOR; return 0; }
	return 1;
}
#endif
#ifdef FAKE_ABI_TAG
/* libnvidia-tls's ELF note, as the real one carries it: built for GNU/Linux 2.3.99 (the "new"
 * TLS ABI). libnvidia-container selects the TLS library by it, and refuses one without it. */
__asm__(".section .note.ABI-tag,\"a\",@note\n.balign 4\n.long 4\n.long 16\n.long 1\n.asciz \"GNU\"\n.long 0\n.long 2\n.long 3\n.long 99\n.previous\n");
#endif
