// SPDX-License-Identifier: GPL-2.0
/*
 * gvop - one GPIO operation through the uAPI v2, timed apart from the
 * program's start and the line request, with the errno by name; and a way
 * to run a program with the default signal dispositions.
 *
 *   gvop get CHIP LINE[,LINE...]
 *	Requests the lines as inputs, prints "ready", reads them in one
 *	GPIO_V2_LINE_GET_VALUES_IOCTL.
 *   gvop set CHIP LINE[,LINE...] VALUE
 *	Requests the lines as outputs at 0 (that is the request's own
 *	direction_output), prints "ready", sets them all to VALUE in one
 *	GPIO_V2_LINE_SET_VALUES_IOCTL.
 *   gvop mon CHIP LINE
 *	Requests LINE for edge events on both edges (the request itself waits
 *	for the device: SET_IRQ_TYPE), prints "ready", reads one event.
 *   gvop sigdfl PROG [ARG...]
 *	Executes PROG with every signal at its default disposition and
 *	unblocked.
 *
 * With GVOP_WAIT=PATH in the environment, the operation waits after
 * "ready" until PATH exists (checked every 10 ms, at most 10 minutes), so
 * that a test can make the device hold the line's requests between the
 * line request and the operation.
 *
 * With GVOP_REPEAT=N (get and set), the operation is done N times, with
 * GVOP_GAP_US microseconds of sleep between two (default 0): a caller whose
 * requests come one at a time with the device idle in between. The result
 * line is then "ok n=N ms=T" (T the slowest) or the first error.
 *
 * A shell that starts a program in the background without job control
 * makes it ignore SIGINT and SIGQUIT, so a test could not see what Ctrl-C
 * does to a waiting caller: every mode here resets the dispositions first.
 *
 * Prints one result line: "ok VALUES ms=T" (get: the values in line order;
 * set: the value; mon: "rising" or "falling"), or "err NAME ms=T" with the
 * errno's name (ETIMEDOUT, EPROTO, EIO, EINTR, ENODEV, ...) of the failed
 * step: the operation, or "err NAME request" when the line request failed
 * (no time then). T is the operation's time in milliseconds with one
 * decimal, CLOCK_MONOTONIC around the one ioctl or read. Exit status 0 on
 * success, 1 on an error, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINES	64

static const char *errname(int e)
{
	static char buf[32];

	switch (e) {
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPROTO: return "EPROTO";
	case EIO: return "EIO";
	case EINTR: return "EINTR";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case ENOENT: return "ENOENT";
	case EAGAIN: return "EAGAIN";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESHUTDOWN: return "ESHUTDOWN";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	}
	snprintf(buf, sizeof(buf), "errno=%d", e);
	return buf;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sigdfl(void)
{
	sigset_t all;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static void usage(void)
{
	fprintf(stderr, "usage: gvop get CHIP LINE[,LINE...] | set CHIP LINE[,LINE...] VALUE |\n"
		"       mon CHIP LINE | sigdfl PROG [ARG...]\n");
	exit(2);
}

/* "L,L,...": the offsets, at most MAX_LINES; returns how many. */
static unsigned int parse_lines(char *s, __u32 *off)
{
	unsigned int n = 0;
	char *tok, *end;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n == MAX_LINES)
			usage();
		off[n] = (__u32)strtoul(tok, &end, 10);
		if (*end || end == tok)
			usage();
		n++;
	}
	if (!n)
		usage();
	return n;
}

static int fail(const char *what, int e)
{
	printf("err %s %s\n", errname(e), what);
	return 1;
}

int main(int argc, char **argv)
{
	struct gpio_v2_line_request req;
	struct gpio_v2_line_values vals;
	struct gpio_v2_line_event ev;
	char path[64], *go;
	unsigned int n, i;
	int chip, mode, ret, e;
	double t0 = 0, t1 = 0, worst = 0;
	long rep, gap, k;

	if (argc < 2)
		usage();
	sigdfl();
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(argv[1], "sigdfl")) {
		if (argc < 3)
			usage();
		execvp(argv[2], argv + 2);
		fprintf(stderr, "gvop: %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	mode = !strcmp(argv[1], "get") ? 0 : !strcmp(argv[1], "set") ? 1 :
	       !strcmp(argv[1], "mon") ? 2 : -1;
	if (mode < 0 || argc != (mode == 1 ? 5 : 4))
		usage();
	snprintf(path, sizeof(path), "/dev/%s", argv[2]);
	chip = open(path, O_RDWR | O_CLOEXEC);
	if (chip < 0)
		return fail("open", errno);
	memset(&req, 0, sizeof(req));
	n = parse_lines(argv[3], req.offsets);
	if (mode == 2 && n != 1)
		usage();
	req.num_lines = n;
	strcpy(req.consumer, "gvop");
	if (mode == 0)
		req.config.flags = GPIO_V2_LINE_FLAG_INPUT;
	else if (mode == 1)
		req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
	else
		req.config.flags = GPIO_V2_LINE_FLAG_INPUT |
				   GPIO_V2_LINE_FLAG_EDGE_RISING |
				   GPIO_V2_LINE_FLAG_EDGE_FALLING;
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
		return fail("request", errno);
	printf("ready\n");
	go = getenv("GVOP_WAIT");
	for (i = 0; go && access(go, F_OK) && i < 60000; i++)
		usleep(10000);
	memset(&vals, 0, sizeof(vals));
	vals.mask = n == 64 ? ~0ULL : (1ULL << n) - 1;
	if (mode == 1 && atoi(argv[4]))
		vals.bits = vals.mask;
	rep = getenv("GVOP_REPEAT") && mode != 2 ? atol(getenv("GVOP_REPEAT")) : 1;
	gap = getenv("GVOP_GAP_US") ? atol(getenv("GVOP_GAP_US")) : 0;
	for (k = 0; k < rep; k++) {
		if (k && gap > 0)
			usleep((useconds_t)gap);
		t0 = now_ms();
		if (mode == 0)
			ret = ioctl(req.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals);
		else if (mode == 1)
			ret = ioctl(req.fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals);
		else
			ret = read(req.fd, &ev, sizeof(ev)) == sizeof(ev) ? 0 : -1;
		e = errno;
		t1 = now_ms();
		if (ret < 0) {
			printf("err %s ms=%.1f\n", errname(e), t1 - t0);
			return 1;
		}
		if (t1 - t0 > worst)
			worst = t1 - t0;
	}
	if (rep > 1) {
		printf("ok n=%ld ms=%.1f\n", rep, worst);
		return 0;
	}
	printf("ok");
	if (mode == 0)
		for (i = 0; i < n; i++)
			printf(" %llu", (unsigned long long)(vals.bits >> i) & 1);
	else if (mode == 1)
		printf(" %d", atoi(argv[4]) ? 1 : 0);
	else
		printf(" %s", ev.id == GPIO_V2_LINE_EVENT_RISING_EDGE ? "rising" : "falling");
	printf(" ms=%.1f\n", t1 - t0);
	return 0;
}
