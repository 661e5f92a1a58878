// SPDX-License-Identifier: GPL-2.0
/*
 * gvbench - time GPIO line reads and writes through the character device.
 *
 * Usage: gvbench CHIP LINES ITERATIONS [get|set]
 * Requests lines 0..LINES-1 and prints, for one line and for all of them at
 * once, the mean time per get and per set in microseconds:
 *   get1 <us> get<N> <us> set1 <us> set<N> <us>
 * With "get" or "set" it only reads (or writes) all LINES at once, ITERATIONS
 * times, and prints that one figure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int request(int chip, unsigned int n, uint64_t flags)
{
	struct gpio_v2_line_request req;
	unsigned int i;

	memset(&req, 0, sizeof(req));
	for (i = 0; i < n; i++)
		req.offsets[i] = i;
	req.num_lines = n;
	req.config.flags = flags;
	strcpy(req.consumer, "gvbench");
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0) {
		fprintf(stderr, "gvbench: line request (%u lines): %s\n", n, strerror(errno));
		exit(1);
	}
	return req.fd;
}

/* Mean microseconds per get (set == 0) or set (set == 1) of n lines. */
static double run(int chip, unsigned int n, int set, long iters)
{
	struct gpio_v2_line_values v;
	double t0, t1;
	long i;
	int fd;

	fd = request(chip, n, set ? GPIO_V2_LINE_FLAG_OUTPUT : GPIO_V2_LINE_FLAG_INPUT);
	v.mask = n == 64 ? ~0ULL : (1ULL << n) - 1;
	t0 = now_us();
	for (i = 0; i < iters; i++) {
		v.bits = set ? ((i & 1) ? v.mask : 0) : 0;
		if (ioctl(fd, set ? GPIO_V2_LINE_SET_VALUES_IOCTL :
			  GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0) {
			fprintf(stderr, "gvbench: %s: %s\n", set ? "set" : "get", strerror(errno));
			exit(1);
		}
	}
	t1 = now_us();
	close(fd);
	return (t1 - t0) / iters;
}

int main(int argc, char **argv)
{
	unsigned int n;
	long iters;
	int chip;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: gvbench CHIP LINES ITERATIONS [get|set]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	iters = strtol(argv[3], NULL, 0);
	if (n < 1 || n > GPIO_V2_LINES_MAX || iters < 1) {
		fprintf(stderr, "gvbench: LINES must be 1..%d and ITERATIONS > 0\n",
			GPIO_V2_LINES_MAX);
		return 2;
	}
	chip = open(argv[1], O_RDWR);
	if (chip < 0) {
		fprintf(stderr, "gvbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (argc == 5) {
		int set = !strcmp(argv[4], "set");

		if (!set && strcmp(argv[4], "get")) {
			fprintf(stderr, "gvbench: the mode is get or set\n");
			return 2;
		}
		printf("%s%u %.1f\n", argv[4], n, run(chip, n, set, iters));
		return 0;
	}
	printf("get1 %.1f get%u %.1f ", run(chip, 1, 0, iters), n, run(chip, n, 0, iters));
	printf("set1 %.1f set%u %.1f\n", run(chip, 1, 1, iters), n, run(chip, n, 1, iters));
	return 0;
}
