// SPDX-License-Identifier: GPL-2.0
/*
 * gvevents - count one line's edge events through the GPIO uAPI v2, and say
 * what the kernel saw apart from what this reader got.
 *
 * Usage: gvevents CHIP LINE rising|falling|both EXPECT [IDLE_S]
 *
 * Requests LINE of /dev/CHIP for edge events (consumer "gvevents-LINE", so
 * that several readers of several lines have an interrupt row each in
 * /proc/interrupts), prints "ready" once the request is made, then reads
 * events until the kernel's sequence number of the line reaches EXPECT,
 * until no event came for IDLE_S seconds (default 10), or until SIGTERM,
 * after which it reads what is left without waiting. Each event carries the number of edges
 * gpiolib-cdev saw on the line (line_seqno), including those it dropped
 * because its FIFO was full when this reader was slow; so the last sequence
 * number is what the driver delivered, whatever the reader kept up with.
 * Its interrupt's count in /proc/interrupts is read once the line is
 * requested and again before it is released (the kernel keeps an
 * interrupt's count across requests); irqs is the difference. Prints one
 * line:
 *
 *   read=R seqno=S dropped=D rising=X falling=Y irqs=I
 *
 * (irqs=-1 when the interrupt's row was not found). Exit status 0 when
 * seqno reached EXPECT, 1 otherwise, 2 on a usage or request error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static char consumer[32];
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "gvevents: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* The summed per-CPU count of the interrupt row whose action is consumer. */
static long irq_count(void)
{
	char row[1024], *last;
	long total = -1;
	size_t len;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(row, sizeof(row), f)) {
		char *p = strchr(row, ':'), *end;
		long v;

		len = strcspn(row, "\n");
		while (len && row[len - 1] == ' ')
			len--;
		row[len] = 0;
		last = strrchr(row, ' ');
		if (!p || !last || strcmp(last + 1, consumer))
			continue;
		total = 0;
		for (p++;; p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			total += v;
		}
		break;
	}
	fclose(f);
	return total;
}

int main(int argc, char **argv)
{
	struct gpio_v2_line_event ev[16];
	struct gpio_v2_line_request req;
	struct sigaction sa;
	unsigned long expect, idle_s = 10;
	unsigned long nread = 0, nrise = 0, nfall = 0, seqno = 0;
	long irqs0, irqs1;
	char path[64];
	int chip, i, n;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: gvevents CHIP LINE rising|falling|both EXPECT [IDLE_S]\n");
		return 2;
	}
	memset(&req, 0, sizeof(req));
	req.offsets[0] = strtoul(argv[2], NULL, 10);
	req.num_lines = 1;
	req.config.flags = GPIO_V2_LINE_FLAG_INPUT;
	if (!strcmp(argv[3], "rising"))
		req.config.flags |= GPIO_V2_LINE_FLAG_EDGE_RISING;
	else if (!strcmp(argv[3], "falling"))
		req.config.flags |= GPIO_V2_LINE_FLAG_EDGE_FALLING;
	else if (!strcmp(argv[3], "both"))
		req.config.flags |= GPIO_V2_LINE_FLAG_EDGE_RISING |
				    GPIO_V2_LINE_FLAG_EDGE_FALLING;
	else {
		fprintf(stderr, "gvevents: edges must be rising, falling or both\n");
		return 2;
	}
	expect = strtoul(argv[4], NULL, 10);
	if (argc == 6)
		idle_s = strtoul(argv[5], NULL, 10);
	snprintf(consumer, sizeof(consumer), "gvevents-%u", req.offsets[0]);
	strcpy(req.consumer, consumer);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: poll() returns */
	sigaction(SIGTERM, &sa, NULL);

	snprintf(path, sizeof(path), "/dev/%s", argv[1]);
	chip = open(path, O_RDONLY | O_CLOEXEC);
	if (chip < 0)
		die(path);
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
		die("line request");
	irqs0 = irq_count();
	printf("ready\n");
	fflush(stdout);

	while (seqno < expect) {
		struct pollfd p = { .fd = req.fd, .events = POLLIN };

		n = poll(&p, 1, stop ? 0 : (int)idle_s * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("poll");
		if (!n)
			break;
		n = read(req.fd, ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		for (i = 0; i < n / (int)sizeof(ev[0]); i++) {
			nread++;
			if (ev[i].id == GPIO_V2_LINE_EVENT_RISING_EDGE)
				nrise++;
			else
				nfall++;
			seqno = ev[i].line_seqno;
		}
	}
	irqs1 = irq_count();
	printf("read=%lu seqno=%lu dropped=%lu rising=%lu falling=%lu irqs=%ld\n",
	       nread, seqno, seqno - nread, nrise, nfall,
	       irqs0 < 0 || irqs1 < 0 ? -1 : irqs1 - irqs0);
	close(req.fd);
	close(chip);
	return seqno >= expect ? 0 : 1;
}
