/* A stand-in driver library: a real ELF shared object with the real SONAME (set at link time). */
int nvct_fake_library(void) { return 1; }
/* libcuda's first two entry points, so that a program can load and call it. */
int cuInit(unsigned flags) { (void)flags; return 0; }
int cuDriverGetVersion(int *v) { if (!v) return 1; *v = FAKE_CUDA; return 0; }
