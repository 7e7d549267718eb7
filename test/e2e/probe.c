/*
 * Runs inside test containers: reports what a program there can do with what nvct injected.
 *   probe open PATH...     "open PATH: OK|<errno name>" (O_RDWR, as CUDA opens its nodes)
 *   probe write PATH...    "write PATH: OK|<errno name>" (proves a bind mount is read-only)
 *   probe dlopen NAME...   "dlopen NAME: OK|FAIL <dlerror>" (found by name, through ld.so.cache)
 *   probe cuda             "cuda: <version>" from libcuda.so.1's cuDriverGetVersion
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *name(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case ENODEV: return "ENODEV";
	case EISDIR: return "EISDIR";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) return 2;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[1], "open") || !strcmp(argv[1], "write")) {
			int fd = open(argv[i], !strcmp(argv[1], "open") ? O_RDWR : O_WRONLY | O_APPEND);
			printf("%s %s: %s\n", argv[1], argv[i], fd >= 0 ? "OK" : name(errno));
			if (fd >= 0) close(fd);
		} else if (!strcmp(argv[1], "dlopen")) {
			void *h = dlopen(argv[i], RTLD_NOW);
			printf("dlopen %s: %s%s\n", argv[i], h ? "OK" : "FAIL ", h ? "" : dlerror());
		}
	}
	if (!strcmp(argv[1], "cuda")) {
		void *h = dlopen("libcuda.so.1", RTLD_NOW);
		int (*get)(int *) = h ? (int (*)(int *))dlsym(h, "cuDriverGetVersion") : NULL;
		int v = 0;
		if (get && get(&v) == 0) printf("cuda: %d\n", v);
		else printf("cuda: FAIL %s\n", h ? "no cuDriverGetVersion" : dlerror());
	}
	return 0;
}
