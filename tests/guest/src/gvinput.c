// SPDX-License-Identifier: GPL-2.0
/*
 * gvinput: print the key events of an input device, one line each.
 *
 *   gvinput DEVICE [COUNT]
 *
 * Opens DEVICE (/dev/input/eventN), prints "open NAME" once it is open, then
 * "key CODE VALUE" (VALUE 1 press, 0 release, 2 repeat) for every EV_KEY
 * event, each line written at once. Ends after COUNT key events (default:
 * when killed). A reader started before the events are made cannot miss
 * one: the line "open" says the device is open.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct input_event ev;
	char name[128] = "";
	long count = -1, seen = 0;
	ssize_t n;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s DEVICE [COUNT]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		count = strtol(argv[2], NULL, 0);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) < 0)
		strcpy(name, "?");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("open %s\n", name);
	while (count < 0 || seen < count) {
		n = read(fd, &ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "read: %s\n", strerror(errno));
			return 1;
		}
		if (n != sizeof(ev)) {
			fprintf(stderr, "short read: %zd bytes\n", n);
			return 1;
		}
		if (ev.type != EV_KEY)
			continue;
		printf("key %u %d\n", ev.code, ev.value);
		seen++;
	}
	return 0;
}
