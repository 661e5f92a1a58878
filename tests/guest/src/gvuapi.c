// SPDX-License-Identifier: GPL-2.0
/*
 * gvuapi - drive one GPIO chip through the uAPI v2 ioctls, one command per
 * line on stdin, one reply line per command on stdout, so that a test can
 * hold a line request open while the host changes the device between steps.
 * libgpiod's tools request, use and release a line in one run; reconfiguring
 * a held line, line-info watches and event timestamps need this.
 *
 * Usage: gvuapi CHIP   (e.g. gvuapi gpiochip0)
 *
 * Every reply starts with "ok" or "err ENAME" (the errno of the failed
 * call, by name: EINVAL, EOPNOTSUPP, ...; "E524" for a number without a
 * name here, such as the kernel's internal ENOTSUPP leaking out). Waits are
 * bounded by the command's own timeout. Commands:
 *
 *   req OFFSET FLAGS [out=V] [debounce=US]
 *	request one line (consumer "gvuapi"); FLAGS is a comma list of in,
 *	out, rising, falling, both, active-low, open-drain, open-source,
 *	pull-up, pull-down, bias-off, realtime, hte, or "none" (as is). One
 *	request at a time: a held one is released first.
 *   cfg FLAGS [out=V] [debounce=US]
 *	GPIO_V2_LINE_SET_CONFIG_IOCTL on the held request
 *   get			-> ok V (GPIO_V2_LINE_GET_VALUES_IOCTL)
 *   set V			GPIO_V2_LINE_SET_VALUES_IOCTL
 *   release			close the held request
 *   events MAX IDLE_MS	read edge events until MAX were read or none came
 *	for IDLE_MS -> ok n=N rising=R falling=F seqno=S ts=T1,T2,...
 *	(S: the last line_seqno; T: timestamps in ns, the first 32)
 *   clock			-> ok rt=NS mono=NS (CLOCK_REALTIME, CLOCK_MONOTONIC)
 *   info OFFSET		-> ok flags=F+F+... consumer=NAME debounce=US
 *   watch OFFSET		GPIO_V2_GET_LINEINFO_WATCH_IOCTL -> ok like info
 *   unwatch OFFSET		GPIO_GET_LINEINFO_UNWATCH_IOCTL
 *   changes MAX IDLE_MS	read line-info changes until MAX were read or none
 *	came for IDLE_MS -> ok n=N kinds=K,K,... flags=F+F/F+F/...
 *	(K: requested, released, config)
 *   sysopen PATH		open a sysfs value file and read it (arms poll)
 *	-> ok V
 *   syspoll TIMEOUT_MS	wait for a sysfs notification on it, then read it
 *	-> ok event V, or ok none V when none came within TIMEOUT_MS
 *   sysclose
 *   host CMD...		send CMD to the simulator's control port (the tty
 *	named by $GV_ctl, default ttyS1, under tests/guest/lib.sh's hctl lock)
 *	and read its reply -> ok t0=NS t1=NS reply: REPLY, t0 and t1 the
 *	CLOCK_MONOTONIC times just before the command went out and just after
 *	the reply came: what the host did happened between them, a window
 *	much narrower than a shell's hctl call gives
 *   quit
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONSUMER	"gvuapi"
#define MAX_TS		32
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int chip = -1, line = -1, sysfd = -1;

static const struct {
	const char *name;
	uint64_t flags;
} flag_names[] = {
	{ "used", GPIO_V2_LINE_FLAG_USED },
	{ "active-low", GPIO_V2_LINE_FLAG_ACTIVE_LOW },
	{ "in", GPIO_V2_LINE_FLAG_INPUT },
	{ "out", GPIO_V2_LINE_FLAG_OUTPUT },
	{ "rising", GPIO_V2_LINE_FLAG_EDGE_RISING },
	{ "falling", GPIO_V2_LINE_FLAG_EDGE_FALLING },
	{ "open-drain", GPIO_V2_LINE_FLAG_OPEN_DRAIN },
	{ "open-source", GPIO_V2_LINE_FLAG_OPEN_SOURCE },
	{ "pull-up", GPIO_V2_LINE_FLAG_BIAS_PULL_UP },
	{ "pull-down", GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN },
	{ "bias-off", GPIO_V2_LINE_FLAG_BIAS_DISABLED },
	{ "realtime", GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME },
	{ "hte", GPIO_V2_LINE_FLAG_EVENT_CLOCK_HTE },
};

static const char *change_kind(__u32 type)
{
	switch (type) {
	case GPIO_V2_LINE_CHANGED_REQUESTED: return "requested";
	case GPIO_V2_LINE_CHANGED_RELEASED: return "released";
	case GPIO_V2_LINE_CHANGED_CONFIG: return "config";
	}
	return "unknown";
}

/* append FLAGS as "+"-joined names (or "none") to BUF of SIZE at *LEN */
static void append_flags(char *buf, size_t size, size_t *len, uint64_t flags)
{
	size_t i;
	int any = 0;

	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (!(flags & flag_names[i].flags) || *len >= size)
			continue;
		*len += snprintf(buf + *len, size - *len, "%s%s", any ? "+" : "",
				 flag_names[i].name);
		any = 1;
	}
	if (!any && *len < size)
		*len += snprintf(buf + *len, size - *len, "none");
}

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EBUSY: return "EBUSY";
	case EIO: return "EIO";
	case EPROTO: return "EPROTO";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	case EINTR: return "EINTR";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EBADF: return "EBADF";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static void reply_err(void)
{
	printf("err %s\n", errname(errno));
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* FLAGS (a comma list) as uAPI v2 line flags; -1 on an unknown word */
static int parse_flags(char *s, uint64_t *flags)
{
	char *w, *save = NULL;
	size_t i;

	*flags = 0;
	if (!strcmp(s, "none"))
		return 0;
	for (w = strtok_r(s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "both")) {
			*flags |= GPIO_V2_LINE_FLAG_EDGE_RISING |
				  GPIO_V2_LINE_FLAG_EDGE_FALLING;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(flag_names); i++)
			if (!strcmp(w, flag_names[i].name))
				break;
		if (i == ARRAY_SIZE(flag_names))
			return -1;
		*flags |= flag_names[i].flags;
	}
	return 0;
}

/*
 * The line config of FLAGS and the optional out=V and debounce=US words
 * (argv[0] is FLAGS); -1 with a reply on a bad argument.
 */
static int parse_config(int argc, char **argv, struct gpio_v2_line_config *lc)
{
	uint64_t flags;
	int i;

	memset(lc, 0, sizeof(*lc));
	if (argc < 1 || parse_flags(argv[0], &flags)) {
		printf("err usage: bad flags\n");
		return -1;
	}
	lc->flags = flags;
	for (i = 1; i < argc; i++) {
		struct gpio_v2_line_config_attribute *a = &lc->attrs[lc->num_attrs];

		if (!strncmp(argv[i], "out=", 4)) {
			a->attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
			a->attr.values = strtoull(argv[i] + 4, NULL, 0) & 1;
		} else if (!strncmp(argv[i], "debounce=", 9)) {
			a->attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
			a->attr.debounce_period_us = strtoul(argv[i] + 9, NULL, 0);
		} else {
			printf("err usage: unknown word '%s'\n", argv[i]);
			return -1;
		}
		a->mask = 1;
		lc->num_attrs++;
	}
	return 0;
}

static void print_info(const struct gpio_v2_line_info *info)
{
	unsigned int i, deb = 0;
	char flags[512];
	size_t fl = 0;

	for (i = 0; i < info->num_attrs; i++)
		if (info->attrs[i].id == GPIO_V2_LINE_ATTR_ID_DEBOUNCE)
			deb = info->attrs[i].debounce_period_us;
	append_flags(flags, sizeof(flags), &fl, info->flags);
	printf("flags=%s consumer=%s debounce=%u", flags,
	       info->consumer[0] ? info->consumer : "-", deb);
}

static void cmd_req(int argc, char **argv)
{
	struct gpio_v2_line_request req;

	if (argc < 3) {
		printf("err usage: req OFFSET FLAGS [out=V] [debounce=US]\n");
		return;
	}
	memset(&req, 0, sizeof(req));
	if (parse_config(argc - 2, argv + 2, &req.config))
		return;
	if (line >= 0) {
		close(line);
		line = -1;
	}
	req.offsets[0] = strtoul(argv[1], NULL, 0);
	req.num_lines = 1;
	snprintf(req.consumer, sizeof(req.consumer), "%s", CONSUMER);
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0) {
		reply_err();
		return;
	}
	line = req.fd;
	printf("ok\n");
}

static void cmd_cfg(int argc, char **argv)
{
	struct gpio_v2_line_config lc;

	if (line < 0) {
		printf("err no request\n");
		return;
	}
	if (parse_config(argc - 1, argv + 1, &lc))
		return;
	if (ioctl(line, GPIO_V2_LINE_SET_CONFIG_IOCTL, &lc) < 0)
		reply_err();
	else
		printf("ok\n");
}

static void cmd_get(void)
{
	struct gpio_v2_line_values v = { .mask = 1 };

	if (ioctl(line, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
		reply_err();
	else
		printf("ok %u\n", (unsigned int)(v.bits & 1));
}

static void cmd_set(int argc, char **argv)
{
	struct gpio_v2_line_values v = { .mask = 1 };

	if (argc != 2) {
		printf("err usage: set V\n");
		return;
	}
	v.bits = strtoul(argv[1], NULL, 0) & 1;
	if (ioctl(line, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
		reply_err();
	else
		printf("ok\n");
}

/* poll FD for IDLE_MS at most: 1 readable, 0 timed out, -1 error */
static int wait_in(int fd, short ev, int idle_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)idle_ms * 1000000ull;
	int n;

	for (;;) {
		int64_t left = (int64_t)(end - now_ns(CLOCK_MONOTONIC)) / 1000000;

		n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : n;
	}
}

static void cmd_events(int argc, char **argv)
{
	struct gpio_v2_line_event ev[16];
	uint64_t ts[MAX_TS];
	unsigned long max, n = 0, nr = 0, nf = 0, seqno = 0;
	int idle_ms, k, i;

	if (argc != 3 || line < 0) {
		printf("err usage: events MAX IDLE_MS (with a request)\n");
		return;
	}
	max = strtoul(argv[1], NULL, 0);
	idle_ms = atoi(argv[2]);
	while (n < max) {
		k = wait_in(line, POLLIN, idle_ms);
		if (k < 0) {
			reply_err();
			return;
		}
		if (!k)
			break;
		/* One event at a time: never read past MAX. */
		k = read(line, ev, sizeof(ev[0]));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			reply_err();
			return;
		}
		for (i = 0; i < k / (int)sizeof(ev[0]); i++) {
			if (n < MAX_TS)
				ts[n] = ev[i].timestamp_ns;
			n++;
			if (ev[i].id == GPIO_V2_LINE_EVENT_RISING_EDGE)
				nr++;
			else
				nf++;
			seqno = ev[i].line_seqno;
		}
	}
	printf("ok n=%lu rising=%lu falling=%lu seqno=%lu ts=", n, nr, nf, seqno);
	for (i = 0; i < (int)n && i < MAX_TS; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)ts[i]);
	if (!n)
		printf("-");
	printf("\n");
}

static void cmd_info(int argc, char **argv, int watch)
{
	struct gpio_v2_line_info info;

	if (argc != 2) {
		printf("err usage: info|watch OFFSET\n");
		return;
	}
	memset(&info, 0, sizeof(info));
	info.offset = strtoul(argv[1], NULL, 0);
	if (ioctl(chip, watch ? GPIO_V2_GET_LINEINFO_WATCH_IOCTL :
		  GPIO_V2_GET_LINEINFO_IOCTL, &info) < 0) {
		reply_err();
		return;
	}
	printf("ok ");
	print_info(&info);
	printf("\n");
}

static void cmd_unwatch(int argc, char **argv)
{
	__u32 offset;

	if (argc != 2) {
		printf("err usage: unwatch OFFSET\n");
		return;
	}
	offset = strtoul(argv[1], NULL, 0);
	if (ioctl(chip, GPIO_GET_LINEINFO_UNWATCH_IOCTL, &offset) < 0)
		reply_err();
	else
		printf("ok\n");
}

static void cmd_changes(int argc, char **argv)
{
	struct gpio_v2_line_info_changed c;
	char kinds[512] = "", flags[1024] = "";
	size_t kl = 0, fl = 0;
	unsigned long max, n = 0;
	int idle_ms, k;

	if (argc != 3) {
		printf("err usage: changes MAX IDLE_MS\n");
		return;
	}
	max = strtoul(argv[1], NULL, 0);
	idle_ms = atoi(argv[2]);
	while (n < max) {
		k = wait_in(chip, POLLIN, idle_ms);
		if (k < 0) {
			reply_err();
			return;
		}
		if (!k)
			break;
		k = read(chip, &c, sizeof(c));
		if (k < 0 && errno == EINTR)
			continue;
		if (k != (int)sizeof(c)) {
			if (k >= 0)
				errno = EPROTO;
			reply_err();
			return;
		}
		if (kl < sizeof(kinds))
			kl += snprintf(kinds + kl, sizeof(kinds) - kl, "%s%s",
				       n ? "," : "", change_kind(c.event_type));
		if (n && fl < sizeof(flags))
			fl += snprintf(flags + fl, sizeof(flags) - fl, "/");
		append_flags(flags, sizeof(flags), &fl, c.info.flags);
		n++;
	}
	printf("ok n=%lu kinds=%s flags=%s\n", n, n ? kinds : "-", n ? flags : "-");
}

/* read the open sysfs file from its start: its first character */
static int sys_read(char *v)
{
	char buf[16];
	ssize_t k;

	if (lseek(sysfd, 0, SEEK_SET) < 0)
		return -1;
	k = read(sysfd, buf, sizeof(buf) - 1);
	if (k < 1)
		return -1;
	*v = buf[0];
	return 0;
}

static void cmd_sysopen(int argc, char **argv)
{
	char v;

	if (argc != 2) {
		printf("err usage: sysopen PATH\n");
		return;
	}
	if (sysfd >= 0)
		close(sysfd);
	sysfd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (sysfd < 0 || sys_read(&v)) {
		reply_err();
		return;
	}
	printf("ok %c\n", v);
}

static void cmd_syspoll(int argc, char **argv)
{
	char v;
	int k;

	if (argc != 2 || sysfd < 0) {
		printf("err usage: syspoll TIMEOUT_MS (after sysopen)\n");
		return;
	}
	k = wait_in(sysfd, POLLPRI | POLLERR, atoi(argv[1]));
	if (k < 0 || sys_read(&v)) {
		reply_err();
		return;
	}
	printf("ok %s %c\n", k ? "event" : "none", v);
}

#define HCTL_LOCK	"/tmp/hctl.lock"

/* hctl's lock: a directory holding the owner's pid (30 s at most) */
static int host_lock(void)
{
	char pid[32];
	int i, fd;

	for (i = 0; mkdir(HCTL_LOCK, 0700); i++) {
		if (errno != EEXIST || i >= 3000)
			return -1;
		usleep(10000);
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fd = open(HCTL_LOCK "/pid", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, pid, strlen(pid)) < 0)
			pid[0] = 0;
		close(fd);
	}
	return 0;
}

static void host_unlock(void)
{
	unlink(HCTL_LOCK "/pid");
	rmdir(HCTL_LOCK);
}

static void cmd_host(int argc, char **argv)
{
	const char *tty = getenv("GV_ctl");
	char path[64], cmd[256], reply[512];
	uint64_t t0, t1;
	size_t n = 0;
	int fd, i, k;

	if (argc < 2) {
		printf("err usage: host CMD...\n");
		return;
	}
	cmd[0] = 0;
	for (i = 1; i < argc; i++) {
		strncat(cmd, argv[i], sizeof(cmd) - strlen(cmd) - 2);
		strncat(cmd, i + 1 < argc ? " " : "\n", sizeof(cmd) - strlen(cmd) - 1);
	}
	snprintf(path, sizeof(path), "/dev/%s", tty && *tty ? tty : "ttyS1");
	if (host_lock()) {
		reply_err();
		return;
	}
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		reply_err();
		host_unlock();
		return;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		reply_err();
		goto out;
	}
	/* One reply line, byte by byte: nothing past it is taken. */
	while (n < sizeof(reply) - 1) {
		k = wait_in(fd, POLLIN, 30000);
		if (k <= 0) {
			if (!k)
				errno = ETIMEDOUT;
			reply_err();
			goto out;
		}
		k = read(fd, reply + n, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			reply_err();
			goto out;
		}
		if (reply[n] == '\n')
			break;
		if (reply[n] != '\r')
			n++;
	}
	t1 = now_ns(CLOCK_MONOTONIC);
	reply[n] = 0;
	printf("ok t0=%llu t1=%llu reply: %s\n", (unsigned long long)t0,
	       (unsigned long long)t1, reply);
out:
	close(fd);
	host_unlock();
}

/* one command: AV[0] with its AC - 1 arguments */
static void dispatch(int ac, char **av)
{
	if (!strcmp(av[0], "req")) {
		cmd_req(ac, av);
	} else if (!strcmp(av[0], "cfg")) {
		cmd_cfg(ac, av);
	} else if (!strcmp(av[0], "get") && line >= 0) {
		cmd_get();
	} else if (!strcmp(av[0], "set") && line >= 0) {
		cmd_set(ac, av);
	} else if (!strcmp(av[0], "release")) {
		if (line >= 0)
			close(line);
		line = -1;
		printf("ok\n");
	} else if (!strcmp(av[0], "events")) {
		cmd_events(ac, av);
	} else if (!strcmp(av[0], "clock")) {
		printf("ok rt=%llu mono=%llu\n",
		       (unsigned long long)now_ns(CLOCK_REALTIME),
		       (unsigned long long)now_ns(CLOCK_MONOTONIC));
	} else if (!strcmp(av[0], "info")) {
		cmd_info(ac, av, 0);
	} else if (!strcmp(av[0], "watch")) {
		cmd_info(ac, av, 1);
	} else if (!strcmp(av[0], "unwatch")) {
		cmd_unwatch(ac, av);
	} else if (!strcmp(av[0], "changes")) {
		cmd_changes(ac, av);
	} else if (!strcmp(av[0], "sysopen")) {
		cmd_sysopen(ac, av);
	} else if (!strcmp(av[0], "syspoll")) {
		cmd_syspoll(ac, av);
	} else if (!strcmp(av[0], "sysclose")) {
		if (sysfd >= 0)
			close(sysfd);
		sysfd = -1;
		printf("ok\n");
	} else if (!strcmp(av[0], "host")) {
		cmd_host(ac, av);
	} else {
		printf("err usage: unknown command or no request: %s\n", av[0]);
	}
}

int main(int argc, char **argv)
{
	char buf[512], path[64], *av[16], *save;
	int ac;

	if (argc != 2) {
		fprintf(stderr, "usage: gvuapi CHIP (commands on stdin)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "/dev/%s", argv[1]);
	chip = open(path, O_RDWR | O_CLOEXEC);
	if (chip < 0) {
		fprintf(stderr, "gvuapi: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fgets(buf, sizeof(buf), stdin)) {
		save = NULL;
		ac = 0;
		for (av[ac] = strtok_r(buf, " \t\n", &save); av[ac] && ac < 15;
		     av[++ac] = strtok_r(NULL, " \t\n", &save))
			;
		if (!ac)
			continue;
		errno = 0;
		if (!strcmp(av[0], "quit")) {
			printf("ok\n");
			break;
		}
		dispatch(ac, av);
	}
	return 0;
}
