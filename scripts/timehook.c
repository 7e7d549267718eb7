/*
 * timehook LOG HOOK [ARGS...]: runs a hook (stdin passed through), then appends one line to LOG:
 * "<wall microseconds> <peak RSS KiB> <exit status>". Used by scripts/bench.ts to measure a
 * hook's own wall time and memory without counting a shell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) return 2;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	long us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
	FILE *f = fopen(argv[1], "a");
	if (f) {
		fprintf(f, "%ld %ld %d\n", us, ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
		fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
