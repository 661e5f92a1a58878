// SPDX-License-Identifier: GPL-2.0
/*
 * gvbench - the guest side of make bench: times GPIO requests and interrupts
 * through the character device (uAPI v2) with clock_gettime(CLOCK_MONOTONIC),
 * takes the CPU time they cost, and times a device's probe while it
 * measures the memory the probe took.
 *
 *   gvbench ops CHIP get|set LINES N WARMUP [MIN_MS]
 *	LINES lines (offsets 0..LINES-1) requested once; WARMUP untimed
 *	operations, then timed ones, each read or written in one ioctl (a set
 *	alternates all-low and all-high): at least N of them and for at least
 *	MIN_MS milliseconds (so that the CPU window is long enough to count).
 *	Prints the statistics of the times and the window's CPU (below).
 *   gvbench loop CHIP A B N GAP_US
 *	Loopback latency on the guest's own clock: the simulator wires output
 *	line A to input line B ("loop A B"); N times, A is toggled with one
 *	set ioctl and the time runs until read() returns the event of B (both
 *	edges), then GAP_US pass. Prints the statistics of those times, as
 *	irq_* of the event's kernel timestamp less the start, as set_* of the
 *	set ioctl alone; lost= events that did not come within 2 s.
 *   gvbench irqcpu CHIP LINE HZ SECONDS
 *	Free-running rising pulses on LINE at HZ for SECONDS (simulator
 *	"burst"), read as they come: the CPU window per interrupt.
 *   gvbench rate CHIP L1[,L2...] START_HZ MAX_HZ SECONDS K BRACKET_PCT
 *	The highest rate of free-running rising pulses on all the lines at
 *	once with no lost event in K trials of SECONDS each: one trial per
 *	rate doubling from START_HZ until one loses events (or halving while
 *	START_HZ already does), the last good rate confirmed by K trials in
 *	all, then geometric bisection, K trials per rate (a rate fails at its
 *	first lossy trial), until the first lossy rate is within BRACKET_PCT
 *	of the lossless one. Each trial also has the simulator's edge times
 *	of the first line (edgetimes): how late each edge came against the
 *	grid of the period, and how far each interval was from the period.
 *	Lines still masked or pending 30 s after a trial end the search:
 *	stuck=LINE:MASKED:PENDING,... (else stuck=-).
 *   gvbench stats FILE...
 *	The statistics of the samples in the files together (one per line).
 *   gvbench lines CHIP
 *	The number of lines of /dev/CHIP.
 *   gvbench bind|unbind DRVDIR DEV
 *	Writes DEV to DRVDIR/bind (or unbind) and prints the write's duration
 *	and the change of /proc/meminfo's Slab, SUnreclaim, VmallocUsed, Percpu
 *	and MemFree across it (kB): ns=T err=E slab=.. sunreclaim=.. vmalloc=..
 *	percpu=.. memfree=..  (err is 0 or the errno of the write).
 *   gvbench clock [ROUNDS]
 *	The guest/host clock offset from ROUNDS round trips (default 30) of the
 *	simulator's "clock" command: off=GUEST-HOST (ns) rtt=the smallest trip.
 *   gvbench latency CHIP LINE N PERIOD_US [SAMPLES [READ_SAMPLES]]
 *	N free-running rising edges on LINE (simulator "burst"), PERIOD_US
 *	apart; for each event, its timestamp minus the simulator's time of the
 *	edge ("edgetimes"), with the clock offset measured before and after
 *	(drift interpolated). Prints the statistics of those latencies, and as
 *	read_* the same up to the moment read() returned the event. An upper
 *	bound: the offset's uncertainty is larger than the latency under TCG.
 *
 * Statistics are in nanoseconds: n= med= p10= p90= p99= mean= min= max=.
 * A CPU window (ops, loop, irqcpu) adds: wall_ns (the guest's time of the
 * window), host_t0/host_t1 (the host's CLOCK_MONOTONIC before and after
 * it, from the simulator's "clock": the host takes its threads' CPU time
 * over that span), ncpu, the change of /proc/stat's all-CPU line as
 * g_user_ns g_nice_ns g_sys_ns g_idle_ns g_iowait_ns g_irq_ns
 * g_softirq_ns g_steal_ns (tick-sampled by the kernel), and proc_cpu_ns
 * (this process's CPU time, exact).
 * With GVB_HOG=N in the environment, N processes spin beside the
 * measurement (from before its warm-up to its end), so that more threads
 * are runnable than the guest has CPUs; the window then adds hog=N
 * hog_rate= (their increments per second: what the driver left them).
 * The simulator is reached through its control socket on the guest's
 * second serial port ($GV_ctl, default ttyS1), under the lock hctl uses
 * (tests/guest/lib.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CTL_LOCK	"/tmp/hctl.lock"
#define REPLY_MAX	(1 << 20)

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gvbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* --- statistics */

struct samples {
	int64_t *v;
	size_t n, cap;
};

static void push(struct samples *s, int64_t x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = x;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank: the smallest sample with at least q of them at or below */
static int64_t rank(const struct samples *s, double q)
{
	size_t i = (size_t)(q * s->n);

	if (i < q * s->n)
		i++;

	if (i < 1)
		i = 1;
	if (i > s->n)
		i = s->n;
	return s->v[i - 1];
}

/* Prints "PREFIXn=.. PREFIXmed=.. ..." (sorts the samples). */
static void print_stats(struct samples *s, const char *prefix)
{
	double sum = 0;
	int64_t med;
	size_t i;

	if (!s->n) {
		printf("%sn=0", prefix);
		return;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp64);
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	med = s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
	printf("%sn=%zu %smed=%lld %sp10=%lld %sp90=%lld %sp99=%lld %smean=%.0f %smin=%lld %smax=%lld",
	       prefix, s->n, prefix, (long long)med, prefix, (long long)rank(s, 0.10),
	       prefix, (long long)rank(s, 0.90), prefix, (long long)rank(s, 0.99),
	       prefix, sum / s->n, prefix, (long long)s->v[0], prefix,
	       (long long)s->v[s->n - 1]);
}

static void save(const struct samples *s, const char *path)
{
	FILE *f;
	size_t i;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	for (i = 0; i < s->n; i++)
		fprintf(f, "%lld\n", (long long)s->v[i]);
	fclose(f);
}

/* --- the simulator's control socket on the second serial port */

static int ctl_fd = -1;
static int ctl_locked;
static char ctl_tty[64];

static void ctl_unlock(void)
{
	if (ctl_locked) {
		unlink(CTL_LOCK "/pid");
		rmdir(CTL_LOCK);
		ctl_locked = 0;
	}
}

static void on_signal(int sig)
{
	ctl_unlock();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The lock of hctl: a directory holding the owner's pid. */
static void ctl_lock(void)
{
	int64_t t0 = now_ns();
	char buf[32];
	FILE *f;

	while (mkdir(CTL_LOCK, 0700) < 0) {
		if (errno != EEXIST)
			die(CTL_LOCK ": %s", strerror(errno));
		f = fopen(CTL_LOCK "/pid", "r");
		if (f) {
			long pid = 0;

			if (fgets(buf, sizeof(buf), f))
				pid = strtol(buf, NULL, 10);
			fclose(f);
			if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH) {
				unlink(CTL_LOCK "/pid");
				rmdir(CTL_LOCK);
				continue;
			}
		}
		if (now_ns() - t0 > 60 * 1000000000LL)
			die("the hctl lock is held for over 60 s");
		msleep(10);
	}
	ctl_locked = 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(ctl_unlock);
	f = fopen(CTL_LOCK "/pid", "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

static void ctl_open(void)
{
	struct termios t;

	if (ctl_fd >= 0)
		return;
	ctl_lock();
	snprintf(ctl_tty, sizeof(ctl_tty), "/dev/%s",
		 getenv("GV_ctl") && *getenv("GV_ctl") ? getenv("GV_ctl") : "ttyS1");
	ctl_fd = open(ctl_tty, O_RDWR | O_NOCTTY);
	if (ctl_fd < 0)
		die("%s: %s", ctl_tty, strerror(errno));
	if (tcgetattr(ctl_fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(ctl_fd, TCSANOW, &t);
	}
	tcflush(ctl_fd, TCIFLUSH);
}

static void ctl_send(const char *cmd)
{
	size_t len = strlen(cmd), off = 0;
	ssize_t w;

	while (off < len) {
		w = write(ctl_fd, cmd + off, len - off);
		if (w < 0 && errno != EINTR)
			die("write to %s: %s", ctl_tty, strerror(errno));
		if (w > 0)
			off += w;
	}
	if (write(ctl_fd, "\n", 1) != 1)
		die("write to %s: %s", ctl_tty, strerror(errno));
}

static char reply[REPLY_MAX];
static size_t reply_len, line_len;

/* Reads once what the simulator sent (call when ctl_fd is readable). */
static void ctl_read_more(void)
{
	ssize_t r;

	r = read(ctl_fd, reply + reply_len, REPLY_MAX - 1 - reply_len);
	if (r < 0 && errno != EINTR && errno != EAGAIN)
		die("read from %s: %s", ctl_tty, strerror(errno));
	if (r > 0)
		reply_len += r;
	reply[reply_len] = 0;
}

/*
 * True when a whole line is in reply[]: it is then terminated there
 * (without its end of line); ctl_reply_done() drops it.
 */
static int ctl_take_line(void)
{
	char *nl = memchr(reply, '\n', reply_len);

	if (!nl) {
		if (reply_len >= REPLY_MAX - 1)
			die("a reply longer than %d bytes", REPLY_MAX);
		return 0;
	}
	*nl = 0;
	if (nl > reply && nl[-1] == '\r')
		nl[-1] = 0;
	line_len = nl - reply + 1;
	return 1;
}

static void ctl_reply_done(void)
{
	size_t used = line_len;

	memmove(reply, reply + used, reply_len - used);
	reply_len -= used;
	reply[reply_len] = 0;
}

/* One command and its reply (in reply[], "ok" checked), waiting up to timeout_s. */
static const char *ctl(const char *cmd, int timeout_s)
{
	static char last[REPLY_MAX];
	int64_t end = now_ns() + (int64_t)timeout_s * 1000000000;
	struct pollfd p;

	ctl_open();
	ctl_send(cmd);
	while (!ctl_take_line()) {
		p.fd = ctl_fd;
		p.events = POLLIN;
		if (poll(&p, 1, 100) > 0)
			ctl_read_more();
		if (now_ns() > end)
			die("no reply from the simulator to '%s' within %d s", cmd, timeout_s);
	}
	strcpy(last, reply);
	ctl_reply_done();
	if (strncmp(last, "ok", 2))
		die("the simulator answered '%s' with: %s", cmd, last);
	return last;
}

/* The value of KEY=... in a reply, or NULL. */
static const char *field(const char *r, const char *key)
{
	size_t k = strlen(key);
	const char *p = r;

	while ((p = strstr(p, key))) {
		if ((p == r || p[-1] == ' ') && p[k] == '=')
			return p + k + 1;
		p += k;
	}
	return NULL;
}

static long long field_ll(const char *r, const char *key, long long dflt)
{
	const char *v = field(r, key);

	return v ? strtoll(v, NULL, 10) : dflt;
}

/*
 * The guest/host clock offset (guest CLOCK_MONOTONIC minus the host's) from
 * round trips of "clock": the host read its clock after the guest started
 * sending (t0) and before the guest had the reply (t1), so each trip bounds
 * the offset to [t0 - host, t1 - host]; over all trips, [lo, hi]. The
 * guest-to-host leg (a few bytes written to the UART) is short and the
 * host-to-guest one (the reply through the UART's receive path and the tty
 * layer) is long, so lo, which takes the fastest outbound leg as zero, is
 * the estimate: latencies computed with it are upper bounds, too high by
 * that leg at most; hi - lo is the uncertainty.
 */
struct offset {
	int64_t lo, hi;
	int64_t rtt;	/* the fastest round trip */
	int64_t at;	/* guest time of the measurement */
};

static struct offset clock_offset(int rounds)
{
	struct offset o = { INT64_MIN, INT64_MAX, INT64_MAX, 0 };
	int64_t t0, t1, host;
	const char *r;
	int i;

	o.at = now_ns();
	for (i = 0; i < rounds; i++) {
		t0 = now_ns();
		r = ctl("clock", 10);
		t1 = now_ns();
		if (!field(r, "mono_ns"))
			die("no mono_ns in the reply to clock: %s", r);
		host = field_ll(r, "mono_ns", 0);
		if (t0 - host > o.lo)
			o.lo = t0 - host;
		if (t1 - host < o.hi)
			o.hi = t1 - host;
		if (t1 - t0 < o.rtt)
			o.rtt = t1 - t0;
	}
	o.at = (o.at + now_ns()) / 2;
	return o;
}

/* --- CPU windows and the hog */

#define STAT_FIELDS	8
static const char *const stat_names[STAT_FIELDS] = {
	"user", "nice", "sys", "idle", "iowait", "irq", "softirq", "steal",
};

/* /proc/stat's all-CPU line (in USER_HZ ticks) into @v; returns the CPUs. */
static int read_stat(long long *v)
{
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	int ncpu = 0, i;

	if (!f)
		die("/proc/stat: %s", strerror(errno));
	for (i = 0; i < STAT_FIELDS; i++)
		v[i] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "cpu ", 4)) {
			char *p = line + 4, *e;

			for (i = 0; i < STAT_FIELDS; i++, p = e) {
				v[i] = strtoll(p, &e, 10);
				if (e == p)
					break;
			}
		} else if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9') {
			ncpu++;
		}
	}
	fclose(f);
	return ncpu;
}

#define HOG_MAX 64

/* Spinning processes and their counters (shared memory). */
static struct {
	int n;
	pid_t pid[HOG_MAX];
	volatile uint64_t *ctr;
} hog;

/* GVB_HOG=N: start N spinning processes. */
static void hog_start(void)
{
	const char *e = getenv("GVB_HOG");
	int n = e ? atoi(e) : 0, i;

	if (n <= 0)
		return;
	if (n > HOG_MAX)
		n = HOG_MAX;
	hog.ctr = mmap(NULL, HOG_MAX * 64, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (hog.ctr == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	fflush(NULL);
	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0)
			die("fork: %s", strerror(errno));
		if (!p) {
			/* one counter per cache line */
			volatile uint64_t *c = hog.ctr + i * 8;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				*c = *c + 1;
		}
		hog.pid[hog.n++] = p;
	}
}

static uint64_t hog_sum(void)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < hog.n; i++)
		t += hog.ctr[i * 8];
	return t;
}

static void hog_stop(void)
{
	int i;

	for (i = 0; i < hog.n; i++)
		kill(hog.pid[i], SIGKILL);
	for (i = 0; i < hog.n; i++)
		waitpid(hog.pid[i], NULL, 0);
}

struct cpuwin {
	long long st0[STAT_FIELDS], st1[STAT_FIELDS];
	int64_t wall0, wall1, proc0, proc1, host0, host1;
	uint64_t hog0, hog1;
	int ncpu;
};

static int64_t proc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The host's CLOCK_MONOTONIC, from the simulator. */
static int64_t host_now(void)
{
	const char *r = ctl("clock", 10);

	if (!field(r, "mono_ns"))
		die("no mono_ns in the reply to clock: %s", r);
	return field_ll(r, "mono_ns", 0);
}

/* The host's clock first and last, so that its span holds the guest's. */
static void win_begin(struct cpuwin *w)
{
	w->host0 = host_now();
	w->ncpu = read_stat(w->st0);
	w->hog0 = hog_sum();
	w->proc0 = proc_now();
	w->wall0 = now_ns();
}

static void win_end(struct cpuwin *w)
{
	w->wall1 = now_ns();
	w->proc1 = proc_now();
	w->hog1 = hog_sum();
	read_stat(w->st1);
	w->host1 = host_now();
}

static void win_print(const struct cpuwin *w)
{
	long hz = sysconf(_SC_CLK_TCK);
	int i;

	if (hz <= 0)
		hz = 100;
	printf(" wall_ns=%lld host_t0=%lld host_t1=%lld ncpu=%d proc_cpu_ns=%lld",
	       (long long)(w->wall1 - w->wall0), (long long)w->host0,
	       (long long)w->host1, w->ncpu, (long long)(w->proc1 - w->proc0));
	for (i = 0; i < STAT_FIELDS; i++)
		printf(" g_%s_ns=%lld", stat_names[i],
		       (w->st1[i] - w->st0[i]) * (1000000000LL / hz));
	if (hog.n)
		printf(" hog=%d hog_rate=%.0f", hog.n,
		       (double)(w->hog1 - w->hog0) * 1e9 / (double)(w->wall1 - w->wall0));
}

/* --- lines */

static int open_chip(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s%s", strchr(name, '/') ? "" : "/dev/", name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	return fd;
}

static int request(int chip, const unsigned int *offs, unsigned int n, uint64_t flags)
{
	struct gpio_v2_line_request req;
	unsigned int i;

	memset(&req, 0, sizeof(req));
	for (i = 0; i < n; i++)
		req.offsets[i] = offs[i];
	req.num_lines = n;
	req.config.flags = flags;
	if (flags & GPIO_V2_LINE_FLAG_EDGE_RISING)
		req.event_buffer_size = GPIO_V2_LINES_MAX * 16;
	strcpy(req.consumer, "gvbench");
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
		die("line request (%u lines): %s", n, strerror(errno));
	return req.fd;
}

static int cmd_ops(int argc, char **argv)
{
	struct gpio_v2_line_values v;
	unsigned int offs[GPIO_V2_LINES_MAX], n, i;
	struct samples s = { 0 };
	long iters, warm, k, min_ms = 0;
	struct cpuwin w;
	int chip, fd, set;
	int64_t t0, t1;

	if (argc < 7)
		die("usage: gvbench ops CHIP get|set LINES N WARMUP [MIN_MS]");
	set = !strcmp(argv[3], "set");
	if (!set && strcmp(argv[3], "get"))
		die("the operation is get or set");
	n = strtoul(argv[4], NULL, 0);
	iters = strtol(argv[5], NULL, 0);
	warm = strtol(argv[6], NULL, 0);
	if (argc > 7)
		min_ms = strtol(argv[7], NULL, 0);
	if (n < 1 || n > GPIO_V2_LINES_MAX || iters < 1 || warm < 0 || min_ms < 0)
		die("LINES must be 1..%d, N > 0, WARMUP >= 0, MIN_MS >= 0", GPIO_V2_LINES_MAX);
	chip = open_chip(argv[2]);
	for (i = 0; i < n; i++)
		offs[i] = i;
	fd = request(chip, offs, n, set ? GPIO_V2_LINE_FLAG_OUTPUT : GPIO_V2_LINE_FLAG_INPUT);
	v.mask = n == 64 ? ~0ULL : (1ULL << n) - 1;
	hog_start();
	for (k = -warm; ; k++) {
		if (k == 0)
			win_begin(&w);
		/* at least N, and MIN_MS long; a million at most */
		if (k >= 0 && k >= iters &&
		    (now_ns() - w.wall0 >= min_ms * 1000000 || k >= 1000000))
			break;
		v.bits = set && (k & 1) ? v.mask : 0;
		t0 = now_ns();
		if (ioctl(fd, set ? GPIO_V2_LINE_SET_VALUES_IOCTL :
			  GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
			die("%s: %s", argv[3], strerror(errno));
		t1 = now_ns();
		if (k >= 0)
			push(&s, t1 - t0);
	}
	win_end(&w);
	hog_stop();
	close(fd);
	close(chip);
	print_stats(&s, "");
	win_print(&w);
	printf("\n");
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	struct samples s = { 0 };
	char buf[64];
	FILE *f;
	int i;

	for (i = 2; i < argc; i++) {
		f = fopen(argv[i], "r");
		if (!f)
			die("%s: %s", argv[i], strerror(errno));
		while (fgets(buf, sizeof(buf), f))
			push(&s, strtoll(buf, NULL, 10));
		fclose(f);
	}
	print_stats(&s, "");
	printf("\n");
	return 0;
}

static int cmd_lines(int argc, char **argv)
{
	struct gpiochip_info info;
	int chip;

	if (argc != 3)
		die("usage: gvbench lines CHIP");
	chip = open_chip(argv[2]);
	if (ioctl(chip, GPIO_GET_CHIPINFO_IOCTL, &info) < 0)
		die("chip info: %s", strerror(errno));
	printf("%u\n", info.lines);
	return 0;
}

/* --- probe time and memory */

#define MEMINFO_KEYS 5
static const char *const meminfo_keys[MEMINFO_KEYS] = {
	"Slab", "SUnreclaim", "VmallocUsed", "Percpu", "MemFree",
};

static void meminfo(long long *kb)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");
	int i;

	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	for (i = 0; i < MEMINFO_KEYS; i++)
		kb[i] = -1;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < MEMINFO_KEYS; i++) {
			size_t k = strlen(meminfo_keys[i]);

			if (!strncmp(line, meminfo_keys[i], k) && line[k] == ':')
				kb[i] = strtoll(line + k + 1, NULL, 10);
		}
	}
	fclose(f);
}

static int cmd_bind(int argc, char **argv)
{
	long long before[MEMINFO_KEYS], after[MEMINFO_KEYS];
	char path[256];
	int64_t t0, t1;
	int fd, err = 0, i;
	ssize_t w;

	if (argc != 4)
		die("usage: gvbench bind|unbind DRVDIR DEV");
	snprintf(path, sizeof(path), "%s/%s", argv[2], argv[1]);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	meminfo(before);
	t0 = now_ns();
	w = write(fd, argv[3], strlen(argv[3]));
	t1 = now_ns();
	if (w < 0)
		err = errno;
	close(fd);
	meminfo(after);
	printf("ns=%lld err=%d", (long long)(t1 - t0), err);
	for (i = 0; i < MEMINFO_KEYS; i++) {
		char key[32];
		size_t j;

		for (j = 0; meminfo_keys[i][j] && j < sizeof(key) - 1; j++)
			key[j] = meminfo_keys[i][j] | 0x20;	/* lower case */
		key[j] = 0;
		if (!strcmp(key, "vmallocused"))
			strcpy(key, "vmalloc");
		printf(" %s=%lld", key, after[i] - before[i]);
	}
	printf("\n");
	return 0;
}

static int cmd_clock(int argc, char **argv)
{
	struct offset o = clock_offset(argc > 2 ? atoi(argv[2]) : 30);

	printf("off=%lld hi=%lld rtt=%lld\n", (long long)o.lo, (long long)o.hi, (long long)o.rtt);
	return 0;
}

/* --- interrupts */

/* Waits until the simulator holds an event buffer of the line, nothing latched. */
/*
 * How long a line may take to be unmasked again (the driver queues its
 * event buffer) before a measurement gives up on it: on a host at a load
 * of 16, 5 s was not enough for the in-tree driver after a lossy trial.
 */
#define UNMASK_WAIT_S	30

static void wait_unmasked(unsigned int line)
{
	int64_t end = now_ns() + UNMASK_WAIT_S * 1000000000LL;
	char cmd[32];
	const char *r;

	snprintf(cmd, sizeof(cmd), "get %u", line);
	for (;;) {
		r = ctl(cmd, 10);
		if (field_ll(r, "masked", 1) == 0 && field_ll(r, "pending", 1) == 0)
			return;
		if (now_ns() > end)
			break;
		msleep(10);
	}
	die("line %u is not unmasked after %d s: %s", line, UNMASK_WAIT_S, r);
}

struct evcount {
	unsigned long read;		/* events this reader got */
	unsigned long seqno_gap;	/* events gpiolib-cdev handled but dropped */
};

/*
 * Sends CMD (a burst) and reads events from fd until its reply came and
 * then either expect events were read or idle_ms passed without one. Each
 * event goes to on_event. Returns the reply.
 */
static const char *burst_and_read(const char *cmd, int fd, unsigned long expect,
				  int timeout_s, int idle_ms,
				  void (*on_event)(const struct gpio_v2_line_event *, int64_t, void *),
				  void *arg, struct evcount *c)
{
	static char last[REPLY_MAX];
	struct gpio_v2_line_event ev[256];
	static uint32_t last_line_seqno[GPIO_V2_LINES_MAX + 1];
	int64_t end = now_ns() + (int64_t)timeout_s * 1000000000, last_ev, t;
	int have_reply = 0, i;
	struct pollfd p[2];
	ssize_t r;

	ctl_open();
	ctl_send(cmd);
	last_ev = now_ns();
	for (;;) {
		p[0].fd = fd;
		p[0].events = POLLIN;
		p[1].fd = ctl_fd;
		p[1].events = POLLIN;
		if (poll(p, have_reply ? 1 : 2, 50) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (p[0].revents & POLLIN) {
			r = read(fd, ev, sizeof(ev));
			t = now_ns();
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				die("event read: %s", strerror(errno));
			for (i = 0; r > 0 && i < r / (ssize_t)sizeof(ev[0]); i++) {
				unsigned int o = ev[i].offset % (GPIO_V2_LINES_MAX + 1);

				if (last_line_seqno[o] && ev[i].line_seqno > last_line_seqno[o] + 1)
					c->seqno_gap += ev[i].line_seqno - last_line_seqno[o] - 1;
				last_line_seqno[o] = ev[i].line_seqno;
				c->read++;
				if (on_event)
					on_event(&ev[i], t, arg);
			}
			if (r > 0)
				last_ev = t;
		}
		if (!have_reply && (p[1].revents & POLLIN))
			ctl_read_more();
		if (!have_reply && ctl_take_line()) {
			strcpy(last, reply);
			ctl_reply_done();
			if (strncmp(last, "ok", 2))
				die("the simulator answered '%s' with: %s", cmd, last);
			have_reply = 1;
			if (now_ns() - last_ev < (int64_t)idle_ms * 1000000)
				last_ev = now_ns();
		}
		t = now_ns();
		if (have_reply && (c->read >= expect || t - last_ev > (int64_t)idle_ms * 1000000))
			break;
		if (t > end)
			die("'%s' did not finish within %d s (%lu events read)", cmd,
			    timeout_s, c->read);
	}
	return last;
}

struct latency_run {
	struct samples ts, rd;	/* guest event timestamps, read times */
};

static void on_latency_event(const struct gpio_v2_line_event *e, int64_t t, void *arg)
{
	struct latency_run *lr = arg;

	push(&lr->ts, (int64_t)e->timestamp_ns);
	push(&lr->rd, t);
}

static int cmd_latency(int argc, char **argv)
{
	struct latency_run lr = { { 0 }, { 0 } };
	struct samples lat = { 0 }, rlat = { 0 }, edges = { 0 };
	struct offset o0, o1;
	unsigned int line;
	unsigned long n, period;
	struct evcount c = { 0, 0 };
	char cmd[128];
	const char *r, *p;
	int chip, fd;
	size_t i, j;
	long long collapsed;
	int paired;

	if (argc < 6)
		die("usage: gvbench latency CHIP LINE N PERIOD_US [SAMPLES [READ_SAMPLES]]");
	line = strtoul(argv[3], NULL, 0);
	n = strtoul(argv[4], NULL, 0);
	period = strtoul(argv[5], NULL, 0);
	if (!n || n > 4096 || !period)
		die("N must be 1..4096 (the simulator keeps 4096 edge times), PERIOD_US > 0");
	chip = open_chip(argv[2]);
	snprintf(cmd, sizeof(cmd), "level %u 0", line);
	ctl(cmd, 10);
	fd = request(chip, &line, 1, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING);
	wait_unmasked(line);
	/* a few edges first, not counted: the path warms up */
	snprintf(cmd, sizeof(cmd), "burst %u 20 %lu", line, period);
	burst_and_read(cmd, fd, 20, 60, 1000, NULL, NULL, &c);
	wait_unmasked(line);
	ctl("reset-stats", 10);
	o0 = clock_offset(50);
	snprintf(cmd, sizeof(cmd), "burst %u %lu %lu", line, n, period);
	c.read = c.seqno_gap = 0;
	r = burst_and_read(cmd, fd, n, 60 + (int)(n * period / 1000000) * 2, 1000,
			   on_latency_event, &lr, &c);
	fprintf(stderr, "GV-LOG: latency burst: %s; read %lu\n", r, c.read);
	collapsed = field_ll(r, "collapsed", -1);
	o1 = clock_offset(50);
	snprintf(cmd, sizeof(cmd), "edgetimes %u", line);
	r = ctl(cmd, 30);
	p = field(r, "t");
	while (p && *p && *p != ' ') {
		char *e;

		push(&edges, strtoll(p, &e, 10));
		if (e == p)
			break;
		p = *e == ',' ? e + 1 : e;
	}
	/*
	 * Host time of each event: its guest timestamp less the offset,
	 * interpolated between the two measurements (the clocks drift).
	 * Events and edges pair in order when their counts agree; otherwise
	 * each event pairs with the latest edge before it (the edges are
	 * PERIOD_US apart, far more than a latency).
	 */
	paired = edges.n == lr.ts.n;
	for (i = 0, j = 0; i < lr.ts.n; i++) {
		double f = o1.at == o0.at ? 0 : (double)(lr.ts.v[i] - o0.at) / (o1.at - o0.at);
		int64_t off = o0.lo + (int64_t)(f * (o1.lo - o0.lo));
		int64_t host_ts = lr.ts.v[i] - off, host_rd = lr.rd.v[i] - off;

		if (paired) {
			j = i;
		} else {
			while (j + 1 < edges.n && edges.v[j + 1] <= host_ts + (int64_t)period * 250)
				j++;
			if (j >= edges.n)
				break;
		}
		push(&lat, host_ts - edges.v[j]);
		push(&rlat, host_rd - edges.v[j]);
	}
	save(&lat, argc > 6 ? argv[6] : NULL);
	save(&rlat, argc > 7 ? argv[7] : NULL);
	print_stats(&lat, "");
	printf(" ");
	print_stats(&rlat, "read_");
	printf(" events=%zu edges=%zu paired=%s seqno_gap=%lu off_rtt=%lld off_unc=%lld drift=%lld collapsed=%lld\n",
	       lr.ts.n, edges.n, paired ? "order" : "time", c.seqno_gap,
	       (long long)(o0.rtt > o1.rtt ? o0.rtt : o1.rtt),
	       (long long)((o0.hi - o0.lo) > (o1.hi - o1.lo) ? o0.hi - o0.lo : o1.hi - o1.lo),
	       (long long)(o1.lo - o0.lo), collapsed);
	close(fd);
	return 0;
}

/*
 * Waits until the simulator holds an event buffer of each of the lines, with
 * nothing latched (one "irqstate" a try: every line's MASKED and PENDING),
 * UNMASK_WAIT_S at most. Returns 0, or -1 with the lines still masked or
 * pending as "L:masked:pending,..." in @late.
 */
static int wait_unmasked_set(const unsigned int *lines, unsigned int nl, char *late, size_t cap)
{
	int64_t end = now_ns() + UNMASK_WAIT_S * 1000000000LL;
	unsigned long ev, m, pend;
	const char *r;
	unsigned int i;

	for (;;) {
		int ready = 1;

		r = ctl("irqstate", 10);
		late[0] = 0;
		for (i = 0; i < nl; i++) {
			char key[16];
			const char *p = r;
			size_t k;

			k = (size_t)snprintf(key, sizeof(key), "%u:", lines[i]);
			while ((p = strstr(p, key)) && p > r && p[-1] != ' ')
				p += k;
			if (!p || sscanf(p + k, "%lu:%lu:%lu", &ev, &m, &pend) != 3)
				die("line %u is not in the reply to irqstate: %.200s", lines[i], r);
			if (m || pend) {
				ready = 0;
				snprintf(late + strlen(late), cap - strlen(late), "%s%u:%lu:%lu",
					 late[0] ? "," : "", lines[i], m, pend);
			}
		}
		if (ready)
			return 0;
		if (now_ns() > end)
			return -1;
		msleep(10);
	}
}

static int cmd_loop(int argc, char **argv)
{
	struct samples lat = { 0 }, irq = { 0 }, set = { 0 };
	struct gpio_v2_line_values v = { 0, 1 };
	struct gpio_v2_line_event ev;
	unsigned int a, b;
	unsigned long lost = 0, stray = 0;
	long n, gap, k, warm = 20;
	struct cpuwin w;
	struct pollfd p;
	char cmd[64];
	int chip, fa, fb, cur = 0;
	int64_t t0, t1, t2;

	if (argc != 7)
		die("usage: gvbench loop CHIP A B N GAP_US");
	a = strtoul(argv[3], NULL, 0);
	b = strtoul(argv[4], NULL, 0);
	n = strtol(argv[5], NULL, 0);
	gap = strtol(argv[6], NULL, 0);
	if (a == b || n < 1 || gap < 0)
		die("A and B differ, N > 0, GAP_US >= 0");
	chip = open_chip(argv[2]);
	snprintf(cmd, sizeof(cmd), "loop %u %u", a, b);
	ctl(cmd, 10);
	fa = request(chip, &a, 1, GPIO_V2_LINE_FLAG_OUTPUT);
	fb = request(chip, &b, 1, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING |
		     GPIO_V2_LINE_FLAG_EDGE_FALLING);
	wait_unmasked(b);
	hog_start();
	for (k = -warm; k < n; k++) {
		if (k == 0)
			win_begin(&w);
		/* an event that came after its round gave up is not this one's */
		p.fd = fb;
		p.events = POLLIN;
		while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
			if (read(fb, &ev, sizeof(ev)) != sizeof(ev))
				break;
			stray++;
		}
		cur ^= 1;
		v.bits = cur;
		t0 = now_ns();
		if (ioctl(fa, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
			die("set line %u: %s", a, strerror(errno));
		t1 = now_ns();
		p.fd = fb;
		p.events = POLLIN;
		if (poll(&p, 1, 2000) <= 0) {
			lost += k >= 0;
			continue;
		}
		if (read(fb, &ev, sizeof(ev)) != sizeof(ev))
			die("event read: %s", strerror(errno));
		t2 = now_ns();
		if (k >= 0) {
			push(&lat, t2 - t0);
			push(&irq, (int64_t)ev.timestamp_ns - t0);
			push(&set, t1 - t0);
		}
		if (gap) {
			struct timespec ts = { gap / 1000000, (gap % 1000000) * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	win_end(&w);
	hog_stop();
	close(fa);
	close(fb);
	close(chip);
	snprintf(cmd, sizeof(cmd), "unloop %u %u", a, b);
	ctl(cmd, 10);
	print_stats(&lat, "");
	printf(" ");
	print_stats(&irq, "irq_");
	printf(" ");
	print_stats(&set, "set_");
	printf(" lost=%lu stray=%lu gap_us=%ld", lost, stray, gap);
	win_print(&w);
	printf("\n");
	return 0;
}

static int cmd_irqcpu(int argc, char **argv)
{
	struct evcount c = { 0, 0 };
	unsigned long period, n;
	unsigned int line;
	struct cpuwin w;
	const char *r;
	char cmd[96];
	double hz, secs;
	int chip, fd;

	if (argc != 6)
		die("usage: gvbench irqcpu CHIP LINE HZ SECONDS");
	line = strtoul(argv[3], NULL, 0);
	hz = atof(argv[4]);
	secs = atof(argv[5]);
	if (hz <= 0 || secs <= 0)
		die("HZ and SECONDS must be positive");
	period = (unsigned long)(1e6 / hz + 0.5);
	if (!period)
		period = 1;
	n = (unsigned long)(secs * 1e6 / period + 0.5);
	if (!n)
		n = 1;
	chip = open_chip(argv[2]);
	snprintf(cmd, sizeof(cmd), "level %u 0", line);
	ctl(cmd, 10);
	fd = request(chip, &line, 1, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING);
	wait_unmasked(line);
	hog_start();
	win_begin(&w);
	snprintf(cmd, sizeof(cmd), "burst %u %lu %lu", line, n, period);
	r = burst_and_read(cmd, fd, n, 60 + (int)(secs * 4), 1000, NULL, NULL, &c);
	win_end(&w);
	hog_stop();
	close(fd);
	close(chip);
	printf("events=%lu expected=%lu collapsed=%lld kernel_dropped=%lu hz=%.1f",
	       c.read, n, field_ll(r, "collapsed", -1), c.seqno_gap, 1e6 / period);
	win_print(&w);
	printf("\n");
	return 0;
}

/* The geometric mean of two positive numbers (no libm). */
static double gmean2(double a, double b)
{
	double p = a * b, x = (a + b) / 2;
	int i;

	for (i = 0; i < 60 && x > 0; i++)
		x = (x + p / x) / 2;
	return x;
}

#define RATE_TRIALS	96

struct trial {
	double hz;
	unsigned long expect, got, gap;
	long long collapsed;
	int ok;
	/* the first line's edges against the period's grid (ns), -1: none */
	long long late50, late99, latemax, iv99;
};

static struct {
	int fd;
	const unsigned int *lines;
	unsigned int nl;
	const char *list;
	double secs;
	struct trial t[RATE_TRIALS];
	int n;
	char stuck[512];	/* lines left masked or pending: the search ends */
} rs;

/*
 * Lateness of each edge of the first line against a grid of the period
 * anchored at the earliest one, and how far each interval between two
 * pulses in a row is from the period (the simulator records the edges of
 * the events it returned: of a lossy trial, not all of them).
 */
static void trial_jitter(struct trial *t, unsigned long period_us, unsigned long pulses)
{
	struct samples e = { 0 }, late = { 0 }, iv = { 0 }, idx = { 0 };
	int64_t per = (int64_t)period_us * 1000, base = INT64_MAX;
	char cmd[32];
	const char *r, *p;
	size_t i;

	t->late50 = t->late99 = t->latemax = t->iv99 = -1;
	snprintf(cmd, sizeof(cmd), "edgetimes %u", rs.lines[0]);
	r = ctl(cmd, 30);
	p = field(r, "t");
	while (p && *p && *p != ' ') {
		char *end;

		push(&e, strtoll(p, &end, 10));
		if (end == p)
			break;
		p = *end == ',' ? end + 1 : end;
	}
	if (e.n < 2 || e.n > pulses)
		goto out;
	/*
	 * Which pulse each edge was: in order when every pulse made an event
	 * (only the newest 4096 are kept), else the nearest multiple of the
	 * period from the first (right while edges are less than half a
	 * period late)
	 */
	idx.n = 0;
	for (i = 0; i < e.n; i++)
		push(&idx, t->ok ? (int64_t)(pulses - e.n + i) :
		     (e.v[i] - e.v[0] + per / 2) / per);
	for (i = 0; i < e.n; i++) {
		int64_t l = e.v[i] - idx.v[i] * per;

		if (l < base)
			base = l;
	}
	for (i = 0; i < e.n; i++) {
		int64_t d;

		push(&late, e.v[i] - idx.v[i] * per - base);
		if (i + 1 < e.n && idx.v[i + 1] == idx.v[i] + 1) {
			d = e.v[i + 1] - e.v[i] - per;
			push(&iv, d < 0 ? -d : d);
		}
	}
	qsort(late.v, late.n, sizeof(*late.v), cmp64);
	qsort(iv.v, iv.n, sizeof(*iv.v), cmp64);
	t->late50 = rank(&late, 0.5);
	t->late99 = rank(&late, 0.99);
	t->latemax = late.v[late.n - 1];
	t->iv99 = iv.n ? rank(&iv, 0.99) : -1;
out:
	free(idx.v);
	free(e.v);
	free(late.v);
	free(iv.v);
}

/* One trial at @hz; false when events were lost. */
static int rate_trial(double hz)
{
	unsigned long period = (unsigned long)(1e6 / hz + 0.5), n;
	struct evcount c = { 0, 0 };
	struct trial *t;
	char cmd[512];
	const char *r;

	if (rs.stuck[0])
		return 0;
	if (rs.n >= RATE_TRIALS)
		die("more than %d trials", RATE_TRIALS);
	if (wait_unmasked_set(rs.lines, rs.nl, rs.stuck, sizeof(rs.stuck))) {
		fprintf(stderr, "GV-LOG: rate %s: lines still masked or pending (line:masked:pending) "
			"%d s after the last trial: %s; the search ends\n", rs.list, UNMASK_WAIT_S,
			rs.stuck);
		return 0;
	}
	t = &rs.t[rs.n++];
	if (!period)
		period = 1;
	t->hz = 1e6 / period;
	n = (unsigned long)(rs.secs * t->hz + 0.5);
	if (!n)
		n = 1;
	ctl("reset-stats", 10);
	snprintf(cmd, sizeof(cmd), "burst %s %lu %lu", rs.list, n, period);
	t->expect = n * rs.nl;
	r = burst_and_read(cmd, rs.fd, t->expect, 60 + (int)(rs.secs * 4), 1000, NULL, NULL, &c);
	t->got = c.read;
	t->gap = c.seqno_gap;
	t->collapsed = field_ll(r, "collapsed", -1);
	t->ok = t->got == t->expect && t->collapsed <= 0;
	trial_jitter(t, period, n);
	fprintf(stderr, "GV-LOG: rate %s at %.1f Hz: %lu of %lu events (%s; kernel dropped %lu; "
		"edges late p99 %lld us)%s\n", rs.list, t->hz, t->got, t->expect, r, t->gap,
		t->late99 < 0 ? -1 : t->late99 / 1000, t->ok ? "" : ": LOST");
	return t->ok;
}

/* Up to @k trials at @hz, stopping at the first lossy one: true if none was. */
static int rate_candidate(double hz, int k)
{
	int i;

	for (i = 0; i < k; i++)
		if (!rate_trial(hz))
			return 0;
	return 1;
}

/* The rate a trial at @hz really runs at (the period is whole us). */
static double real_hz(double hz)
{
	unsigned long period = (unsigned long)(1e6 / hz + 0.5);

	return 1e6 / (period ? period : 1);
}

static int cmd_rate(int argc, char **argv)
{
	unsigned int lines[GPIO_V2_LINES_MAX], nl = 0, i;
	double start, max, lo = 0, hi = 0, plo = 0, hz, bracket;
	char cmd[64], list[512] = "";
	int chip, k, capped = 0;
	char *s, *tok;

	if (argc != 9)
		die("usage: gvbench rate CHIP L1[,L2...] START_HZ MAX_HZ SECONDS K BRACKET_PCT");
	for (s = argv[3]; (tok = strtok(s, ",")); s = NULL) {
		if (nl == GPIO_V2_LINES_MAX)
			die("too many lines");
		lines[nl++] = strtoul(tok, NULL, 0);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u",
			 nl > 1 ? "," : "", lines[nl - 1]);
	}
	start = atof(argv[4]);
	max = atof(argv[5]);
	rs.secs = atof(argv[6]);
	k = atoi(argv[7]);
	bracket = atof(argv[8]);
	if (!nl || start <= 0 || max < start || rs.secs <= 0 || k < 1 || bracket <= 0)
		die("bad arguments");
	chip = open_chip(argv[2]);
	for (i = 0; i < nl; i++) {
		snprintf(cmd, sizeof(cmd), "level %u 0", lines[i]);
		ctl(cmd, 10);
	}
	rs.fd = request(chip, lines, nl, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING);
	rs.lines = lines;
	rs.nl = nl;
	rs.list = list;
	hog_start();

	/* coarse: one trial a rate, doubling */
	for (hz = real_hz(start); ; hz = real_hz(hz * 2 > max ? max : hz * 2)) {
		if (!rate_candidate(hz, 1)) {
			if (!rs.stuck[0])
				hi = hz;
			break;
		}
		plo = hz;
		if (hz >= max)
			break;
	}
	/* the good rate confirmed by K trials in all; halving while it is not */
	while (!rs.stuck[0]) {
		if (!plo) {
			for (hz = real_hz(hi / 2); hz >= start / 16; hz = real_hz(hz / 2)) {
				if (rate_candidate(hz, 1)) {
					plo = hz;
					break;
				}
				if (rs.stuck[0])
					break;
				hi = hz;
			}
			if (!plo)
				break;
		}
		if (rate_candidate(plo, k - 1)) {
			lo = plo;
			break;
		}
		if (rs.stuck[0])
			break;
		hi = plo;
		plo = 0;
	}
	/* bisection, K trials a rate */
	while (lo && hi && hi > lo * (1 + bracket / 100)) {
		hz = real_hz(gmean2(lo, hi));
		if (hz <= lo || hz >= hi)
			break;	/* the period's resolution (1 us) */
		if (rs.n + k > RATE_TRIALS) {
			capped = 1;
			break;
		}
		if (rate_candidate(hz, k))
			lo = hz;
		else if (rs.stuck[0])
			break;
		else
			hi = hz;
	}
	hog_stop();
	close(rs.fd);
	close(chip);
	printf("lossless_hz=%.1f first_lossy_hz=%.1f bracket_pct=%.1f k=%d seconds=%g lines=%u "
	       "trials=%d capped=%d stuck=%s steps=", lo, hi, lo && hi ? (hi / lo - 1) * 100 : -1.0,
	       k, rs.secs, nl, rs.n, capped, rs.stuck[0] ? rs.stuck : "-");
	for (i = 0; i < (unsigned int)rs.n; i++) {
		struct trial *t = &rs.t[i];

		printf("%s%.1f:%lu/%lu:%lld:%lu:%lld:%lld:%lld:%lld", i ? "," : "", t->hz, t->got,
		       t->expect, t->collapsed, t->gap, t->late50, t->late99, t->latemax, t->iv99);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		die("usage: gvbench ops|loop|irqcpu|rate|stats|lines|bind|unbind|clock|latency ...");
	if (!strcmp(argv[1], "ops"))
		return cmd_ops(argc, argv);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(argv[1], "lines"))
		return cmd_lines(argc, argv);
	if (!strcmp(argv[1], "bind") || !strcmp(argv[1], "unbind"))
		return cmd_bind(argc, argv);
	if (!strcmp(argv[1], "clock"))
		return cmd_clock(argc, argv);
	if (!strcmp(argv[1], "latency"))
		return cmd_latency(argc, argv);
	if (!strcmp(argv[1], "rate"))
		return cmd_rate(argc, argv);
	if (!strcmp(argv[1], "loop"))
		return cmd_loop(argc, argv);
	if (!strcmp(argv[1], "irqcpu"))
		return cmd_irqcpu(argc, argv);
	die("unknown command %s", argv[1]);
	return 2;
}
