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
