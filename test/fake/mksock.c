/*
 * mksock PATH: makes a Unix socket at PATH and exits, leaving the socket file behind, as a
 * daemon's listening socket (nvidia-persistenced, nv-fabricmanager) looks on a real host.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) return 2;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) return 1;
	close(fd);
	return 0;
}
