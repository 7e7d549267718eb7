/*
 * The cgroup v2 device programs, as the kernel has them, for the tests:
 *   bpfprogs query CGROUP_DIR   the ids of the device programs attached to that cgroup, one a line
 *   bpfprogs alive ID...        those ids whose program still exists, one a line
 * A program is freed once no cgroup holds it and no descriptor refers to it; its id is not
 * reused soon after (ids are allocated cyclically), so "alive" is a reliable check for a leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "query")) {
		int cg = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (cg < 0) {
			fprintf(stderr, "bpfprogs: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		__u32 ids[64];
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.query.target_fd = cg;
		a.query.attach_type = BPF_CGROUP_DEVICE;
		a.query.prog_ids = (__u64)(unsigned long)ids;
		a.query.prog_cnt = 64;
		if (bpf(BPF_PROG_QUERY, &a) < 0) {
			fprintf(stderr, "bpfprogs: query %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		for (__u32 i = 0; i < a.query.prog_cnt; i++) printf("%u\n", ids[i]);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "alive")) {
		for (int i = 2; i < argc; i++) {
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.prog_id = (__u32)strtoul(argv[i], NULL, 10);
			long fd = bpf(BPF_PROG_GET_FD_BY_ID, &a);
			if (fd >= 0) {
				printf("%s\n", argv[i]);
				close((int)fd);
			} else if (errno != ENOENT) {
				fprintf(stderr, "bpfprogs: id %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
		}
		return 0;
	}
	fprintf(stderr, "usage: bpfprogs query CGROUP_DIR | alive ID...\n");
	return 2;
}
