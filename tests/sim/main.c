// SPDX-License-Identifier: GPL-2.0
/*
 * vgpio-sim: a vhost-user back end that simulates a virtio GPIO device
 * (virtio device ID 41) for QEMU's vhost-user-gpio-pci, with a control
 * socket for the host side of tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim.h"

static const char *sock_path, *ctl_path;
static bool sock_made, ctl_made;
static struct sim *the_sim;

static void remove_sockets(void)
{
	if (sock_made)
		unlink(sock_path);
	if (ctl_made)
		unlink(ctl_path);
	sock_made = false;
	ctl_made = false;
}

void sim_fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("vgpio-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	remove_sockets();
	exit(1);
}

void sim_log(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	flockfile(stderr);
	fputs("vgpio-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void sim_wake(struct sim *s, char why)
{
	ssize_t n = write(s->wake_fd[1], &why, 1);

	(void)n;
}

static void on_signal(int sig)
{
	char c = 's';
	ssize_t n;

	(void)sig;
	if (the_sim) {
		n = write(the_sim->wake_fd[1], &c, 1);
		(void)n;
	}
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vgpio-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	exit(2);
}

static void usage(void)
{
	printf(
"Usage: vgpio-sim --socket PATH [options]\n"
"Simulate a virtio GPIO device (ID 41) as a vhost-user back end for QEMU's\n"
"vhost-user-gpio-pci (QEMU needs shared guest memory, e.g. memory-backend-memfd\n"
"with share=on).\n"
"\n"
"Options:\n"
"  --socket PATH       vhost-user unix socket to listen on (required); a stale\n"
"                      socket file is replaced, one in use is an error\n"
"  --ctl PATH          control socket (unix, stream)\n"
"  --lines N           number of lines, 1..65535 (default 32)\n"
"  --allow-zero-lines  also accept --lines 0: a device with ngpio 0\n"
"  --names MODE        default: GPIO0..GPIO<N-1>; none: no names\n"
"                      (gpio_names_size 0); file:PATH: one name per line in\n"
"                      line order, empty line = unnamed, missing lines unnamed\n"
"  --names-raw PATH    the names block is the exact bytes of PATH\n"
"  --names-size N      report N (decimal or 0x hex) as gpio_names_size whatever\n"
"                      the block is; GET_LINE_NAMES then answers ERR if they\n"
"                      differ\n"
"  --names-fault KIND  a broken default names block: no-nul (no final NUL),\n"
"                      fewer (names for half the lines), dup (odd lines repeat\n"
"                      the name before), non-ascii (bytes 0x80..0xff in every\n"
"                      name), padded[:SIZE] (names, then NUL padding up to SIZE\n"
"                      bytes, default 65536, reported as gpio_names_size)\n"
"  --no-irq            do not offer VIRTIO_GPIO_F_IRQ (request queue only)\n"
"  --no-indirect       do not offer VIRTIO_RING_F_INDIRECT_DESC\n"
"  --no-event-idx      do not offer VIRTIO_RING_F_EVENT_IDX\n"
"  --reject-level      SET_IRQ_TYPE LEVEL_HIGH/LEVEL_LOW answers ERR\n"
"  --rules spec|rust-vmm\n"
"                      spec (default): the virtio specification; rust-vmm: the\n"
"                      reference back end's stricter rules (see the docs):\n"
"                      exact buffer sizes, OUT needs a SET_VALUE first, no\n"
"                      level types, no same-type or NONE-to-NONE IRQ type, an\n"
"                      IRQ type needs an input, a line out of range kills the\n"
"                      request queue until the front end reconnects\n"
"  --behaviour latch|fifo[:SEED]\n"
"                      latch (default): one latched edge per masked line, type\n"
"                      NONE returns the held buffer at once, requests answered\n"
"                      in ring order; fifo: edges kept in a FIFO of 16 per line\n"
"                      and given one per buffer, after type NONE the held\n"
"                      buffer goes back only at the line's next edge, and the\n"
"                      requests of one scan run and complete in a shuffled\n"
"                      order (SEED seeds the shuffles)\n"
"  --order ring|shuffle[:SEED]\n"
"                      the request order alone (--behaviour sets it too)\n"
"  --irq-delay US[:recheck]\n"
"                      notify the driver US microseconds after the used index\n"
"                      is published; decided at publication, or with recheck\n"
"                      when it is due\n"
"  --mock-values       GET_VALUE answers ERR on a line without a SET_VALUE since\n"
"                      its direction was NONE (the reference mock device)\n"
"  --reset-mode keep|forget\n"
"                      keep (default): the line state survives a ring stop, as\n"
"                      in real back ends, and a line whose event buffer was\n"
"                      held goes stale; forget: the request queue stopping\n"
"                      resets every line\n"
"  --fault SPEC        inject a fault (repeatable; tried in order, the first\n"
"                      that matches acts), SPEC is KIND[,line=L|all]\n"
"                      [,req=TYPE|any][,count=N|always][,arg=V] with TYPE one\n"
"                      of names get-dir set-dir get-value set-value irq-type\n"
"                      event; count=N: the next N matching messages only.\n"
"                      KIND (default arg), for any message:\n"
"                        drop        never return the buffer\n"
"                        delay       return it arg ms later (100)\n"
"                        reorder     hold, return in reverse order once arg\n"
"                                    are held, or after 50 ms (2)\n"
"                        len-short   used length: half of what was written\n"
"                        len-long    used length: writable size + 8\n"
"                        len-zero    used length 0\n"
"                      requests:\n"
"                        status      response status byte arg (0x7f)\n"
"                        value       response value byte arg (0xff)\n"
"                      event buffers:\n"
"                        wrong-line  a line's event returns another line's\n"
"                                    held buffer instead\n"
"                        no-type     VALID, not INVALID, for a line of type NONE\n"
"                        twice       the head goes on the used ring twice\n"
"                        evstatus    event status byte arg (2)\n"
"                        storm       every buffer of an enabled line comes\n"
"                                    back VALID at once\n"
"  --fuzz SEED         give a share of the messages a fault chosen by a PRNG\n"
"                      from SEED (same seed, same message order: same faults)\n"
"  --fuzz-rate PERCENT the share for --fuzz (default 10)\n"
"  --crash-after N     _exit(3) when request N+1 is taken off the ring\n"
"  --loop A:B          output value of line A drives the input level of line B\n"
"                      (repeatable)\n"
"  --once              exit 0 when the front end disconnects (default: wait for\n"
"                      a reconnect, keeping the GPIO state)\n"
"  -v, --verbose       log vhost-user messages and requests to stderr\n"
"  -h, --help          this text\n"
"\n"
"Control protocol (one command per line, one reply line each, starting with\n"
"\"ok\" or \"err REASON\"):\n"
"  ping                   -> ok pong\n"
"  level L 0|1            set the input level of line L (may make an event)\n"
"  pulse L N PERIOD_US    N pulses low-high-low on line L's input, half the\n"
"                         period each; the level must be 0 first; with an IRQ\n"
"                         type enabled, each edge that makes an event waits (up\n"
"                         to 5 s) until the line is unmasked with nothing\n"
"                         pending -> ok pulses=N\n"
"  burst L[,L...] N PERIOD_US\n"
"                         N free-running pulses on the lines in step, not\n"
"                         waiting for the driver -> ok pulses=N edges=E sent=S\n"
"                         latched=P collapsed=C\n"
"  get L                  -> ok line=L dir=none|in|out value=V level=V\n"
"                            irq=none|rising|falling|both|high|low masked=0|1\n"
"                            pending=0|1 name=NAME (- when unnamed) stale=0|1\n"
"                            queued=N orphan=0|1\n"
"  stats L                -> ok line=L requests=N errors=N events=N invalid=N\n"
"                            edges=N latched=N collapsed=N queued=N\n"
"  stats                  -> ok requests=N errors=N events=N invalid=N\n"
"                            collapsed=N protocol_errors=N kicks=N batch_max=N\n"
"                            inflight=N stale=N faults=N storm=N dead_queue=0|1\n"
"                            svc_n=N svc_total_ns=T svc_max_ns=M calls_req=N\n"
"                            calls_evt=N\n"
"  irqstate               -> ok L:EVENTS:MASKED:PENDING for every line, the\n"
"                         fields of stats L and get L in one reply\n"
"  reset-stats            zero the statistics and the edge times\n"
"  edgetimes L            -> ok n=K t=T1,T2,... CLOCK_MONOTONIC ns of the edges\n"
"                         behind line L's VALID events (newest 4096)\n"
"  clock                  -> ok mono_ns=T (the host's CLOCK_MONOTONIC)\n"
"  fail L 0|1             while 1, every request for line L answers ERR\n"
"  hang L 0|1             while 1, requests for line L get no reply; 0 answers\n"
"                         the held ones in order (fail and hang also take a\n"
"                         range of lines A-B)\n"
"  loop A B / unloop A B  like --loop, at run time\n"
"  reset-mode keep|forget like --reset-mode\n"
"  state-reset            reset every line now (a device power cycle)\n"
"  rules spec|rust-vmm    like --rules\n"
"  mock-values 0|1        like --mock-values\n"
"  behaviour latch|fifo [SEED]  like --behaviour -> ok behaviour=B order=O\n"
"  order ring|shuffle [SEED]    like --order -> ok behaviour=B order=O\n"
"  irq-delay US [recheck] like --irq-delay (0: notify at once)\n"
"  refuse L none|TYPE[,TYPE...]\n"
"                         SET_IRQ_TYPE to one of these types (rising, falling,\n"
"                         both, high, low) on line L answers ERR, nothing set\n"
"  fault SPEC             like --fault -> ok id=N\n"
"  fault list             -> ok N faults: id=N kind=K line=L req=R count=C arg=A;\n"
"                            ...\n"
"  fault clear [ID]       remove one fault, or all\n"
"  fuzz SEED [RATE]       start the fuzzer (RATE percent, default 10) -> ok\n"
"                         seed=S rate=R; fuzz off stops it\n"
"  fuzz-stats             -> ok seed=S requests=N events=N faults=N drop=N\n"
"                            delay=N ... (a count per fault kind)\n"
"  stall-queue Q          stop serving queue Q (0 requestq, 1 eventq); kicks\n"
"                         are taken, nothing is processed or returned\n"
"  unstall-queue Q        serve it again\n"
"  crash                  _exit(3) at once, no reply, no cleanup\n"
"  quit                   -> ok, then exit 0\n"
"\n"
"Exit status: 0 on SIGINT/SIGTERM, quit or (with --once) disconnect; 1 on a\n"
"runtime error or a malformed message from the front end; 2 on a usage error;\n"
"3 on crash or --crash-after.\n");
}

static unsigned long parse_u(const char *opt, const char *s, unsigned long min,
			     unsigned long max, int base)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		usage_error("%s: bad number '%s'", opt, s);
	v = strtoul(s, &end, base);
	if (errno || *end || v < min || v > max)
		usage_error("%s: '%s' is not a number in %lu..%lu", opt, s, min, max);
	return v;
}

/*
 * "WORD[:SUFFIX]" of an option: WORD must be @a or @b (0 or 1 returned),
 * and the suffix goes to *suffix (NULL without one).
 */
static int parse_choice(const char *opt, char *arg, const char *a,
			const char *b, char **suffix)
{
	char *colon = strchr(arg, ':');

	*suffix = NULL;
	if (colon) {
		*colon = 0;
		*suffix = colon + 1;
	}
	if (!strcmp(arg, a))
		return 0;
	if (!strcmp(arg, b))
		return 1;
	usage_error("%s: expected %s or %s, got '%s'", opt, a, b, arg);
	return -1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "vgpio-sim: cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				sim_fatal("out of memory");
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "vgpio-sim: cannot read %s: %s\n", path,
				strerror(errno));
			exit(1);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

/* --names file:PATH -> a names block with one entry per line. */
static uint8_t *names_from_file(const char *path, uint32_t nlines,
				uint32_t *len)
{
	size_t flen, off = 0, out = 0;
	uint8_t *f = read_file(path, &flen), *b;
	uint32_t line = 0;

	b = malloc(flen + nlines + 1);
	if (!b)
		sim_fatal("out of memory");
	while (off < flen) {
		size_t end = off, e;

		while (end < flen && f[end] != '\n')
			end++;
		if (line >= nlines)
			usage_error("--names: %s has more lines than --lines %u",
				    path, nlines);
		e = end;
		if (e > off && f[e - 1] == '\r')
			e--;
		memcpy(b + out, f + off, e - off);
		out += e - off;
		b[out++] = 0;
		line++;
		off = end + 1;
	}
	while (line++ < nlines)
		b[out++] = 0;
	free(f);
	*len = (uint32_t)out;
	return b;
}

static int make_socket(const char *path, const char *what)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		usage_error("%s: path too long: %s", what, path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			sim_fatal("%s exists and is not a socket", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			sim_fatal("socket %s is in use by another process", path);
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 8)) {
		fprintf(stderr, "vgpio-sim: cannot listen on %s: %s\n", path,
			strerror(errno));
		remove_sockets();
		exit(1);
	}
	return fd;
}

enum {
	OPT_SOCKET = 256, OPT_CTL, OPT_LINES, OPT_NAMES, OPT_NAMES_RAW,
	OPT_NAMES_SIZE, OPT_NO_IRQ, OPT_NO_INDIRECT, OPT_NO_EVENT_IDX,
	OPT_REJECT_LEVEL, OPT_LOOP, OPT_ONCE, OPT_ALLOW_ZERO_LINES,
	OPT_NAMES_FAULT, OPT_RULES, OPT_MOCK_VALUES, OPT_RESET_MODE, OPT_FAULT,
	OPT_FUZZ, OPT_FUZZ_RATE, OPT_CRASH_AFTER, OPT_BEHAVIOUR, OPT_ORDER,
	OPT_IRQ_DELAY,
};

static const struct option options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "lines", required_argument, NULL, OPT_LINES },
	{ "names", required_argument, NULL, OPT_NAMES },
	{ "names-raw", required_argument, NULL, OPT_NAMES_RAW },
	{ "names-size", required_argument, NULL, OPT_NAMES_SIZE },
	{ "no-irq", no_argument, NULL, OPT_NO_IRQ },
	{ "no-indirect", no_argument, NULL, OPT_NO_INDIRECT },
	{ "no-event-idx", no_argument, NULL, OPT_NO_EVENT_IDX },
	{ "reject-level", no_argument, NULL, OPT_REJECT_LEVEL },
	{ "loop", required_argument, NULL, OPT_LOOP },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "allow-zero-lines", no_argument, NULL, OPT_ALLOW_ZERO_LINES },
	{ "names-fault", required_argument, NULL, OPT_NAMES_FAULT },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "mock-values", no_argument, NULL, OPT_MOCK_VALUES },
	{ "reset-mode", required_argument, NULL, OPT_RESET_MODE },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "fuzz", required_argument, NULL, OPT_FUZZ },
	{ "fuzz-rate", required_argument, NULL, OPT_FUZZ_RATE },
	{ "crash-after", required_argument, NULL, OPT_CRASH_AFTER },
	{ "behaviour", required_argument, NULL, OPT_BEHAVIOUR },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "irq-delay", required_argument, NULL, OPT_IRQ_DELAY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	static struct sim sim;
	struct sim *s = &sim;
	unsigned long nlines = 32, names_size = 0;
	const char *names_mode = NULL, *names_raw = NULL;
	bool have_names_size = false, no_irq = false, no_indirect = false;
	bool no_event_idx = false, reject_level = false, allow_zero = false;
	bool mock_values = false, reset_keep = true, fuzz = false;
	enum model_rules rules = MODEL_RULES_SPEC;
	enum names_fault names_fault = NAMES_FAULT_NONE;
	uint32_t names_fault_size = 0;
	unsigned long long fuzz_seed = 0;
	unsigned long fuzz_rate = 10, crash_after = 0;
	int behaviour = 0, shuffle = -1;
	char *suffix;
	unsigned int nloops = 0, nfaults = 0, i;
	static char *loops[MODEL_MAX_LOOPS], *faults[FAULT_MAX];
	uint8_t *names = NULL;
	uint32_t names_len = 0;
	struct sigaction sa;
	int opt, lfd, cfd = -1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			sock_path = optarg;
			break;
		case OPT_CTL:
			ctl_path = optarg;
			break;
		case OPT_LINES:
			nlines = parse_u("--lines", optarg, 0, 65535, 10);
			break;
		case OPT_ALLOW_ZERO_LINES:
			allow_zero = true;
			break;
		case OPT_NAMES_FAULT:
			if (names_fault_parse(optarg, &names_fault, &names_fault_size))
				usage_error("--names-fault: expected no-nul, fewer, dup, non-ascii or padded[:SIZE], got '%s'",
					    optarg);
			break;
		case OPT_RULES:
			if (!strcmp(optarg, "spec"))
				rules = MODEL_RULES_SPEC;
			else if (!strcmp(optarg, "rust-vmm"))
				rules = MODEL_RULES_RUST_VMM;
			else
				usage_error("--rules: expected spec or rust-vmm, got '%s'",
					    optarg);
			break;
		case OPT_MOCK_VALUES:
			mock_values = true;
			break;
		case OPT_RESET_MODE:
			if (!strcmp(optarg, "keep"))
				reset_keep = true;
			else if (!strcmp(optarg, "forget"))
				reset_keep = false;
			else
				usage_error("--reset-mode: expected keep or forget, got '%s'",
					    optarg);
			break;
		case OPT_FAULT:
			if (nfaults >= FAULT_MAX)
				usage_error("--fault: more than %d faults", FAULT_MAX);
			faults[nfaults++] = optarg;
			break;
		case OPT_FUZZ:
			fuzz_seed = parse_u("--fuzz", optarg, 0, ULONG_MAX,
					    optarg[0] == '0' && (optarg[1] == 'x' ||
								 optarg[1] == 'X') ? 16 : 10);
			fuzz = true;
			break;
		case OPT_FUZZ_RATE:
			fuzz_rate = parse_u("--fuzz-rate", optarg, 0, 100, 10);
			break;
		case OPT_CRASH_AFTER:
			crash_after = parse_u("--crash-after", optarg, 1, ULONG_MAX, 10);
			break;
		case OPT_BEHAVIOUR:
		case OPT_ORDER:
			if (opt == OPT_BEHAVIOUR) {
				behaviour = parse_choice("--behaviour", optarg,
							 "latch", "fifo", &suffix);
				if (shuffle < 0)
					shuffle = behaviour;
			} else {
				shuffle = parse_choice("--order", optarg, "ring",
						       "shuffle", &suffix);
			}
			if (suffix)
				s->rng = parse_u(opt == OPT_ORDER ? "--order" : "--behaviour",
						 suffix, 1, ULONG_MAX, 0);
			break;
		case OPT_IRQ_DELAY:
			suffix = strchr(optarg, ':');
			if (suffix) {
				*suffix++ = 0;
				if (strcmp(suffix, "recheck"))
					usage_error("--irq-delay: expected US or US:recheck, got '%s:%s'",
						    optarg, suffix);
				s->irq_recheck = true;
			}
			s->irq_delay_ns = parse_u("--irq-delay", optarg, 0,
						  1000000, 10) * 1000ULL;
			break;
		case OPT_NAMES:
			names_mode = optarg;
			break;
		case OPT_NAMES_RAW:
			names_raw = optarg;
			break;
		case OPT_NAMES_SIZE:
			names_size = parse_u("--names-size", optarg, 0, 0xffffffffUL, 0);
			if (optarg[0] == '0' && optarg[1] && optarg[1] != 'x' &&
			    optarg[1] != 'X')
				names_size = parse_u("--names-size", optarg, 0,
						     0xffffffffUL, 10);
			have_names_size = true;
			break;
		case OPT_NO_IRQ:
			no_irq = true;
			break;
		case OPT_NO_INDIRECT:
			no_indirect = true;
			break;
		case OPT_NO_EVENT_IDX:
			no_event_idx = true;
			break;
		case OPT_REJECT_LEVEL:
			reject_level = true;
			break;
		case OPT_LOOP:
			if (nloops >= MODEL_MAX_LOOPS)
				usage_error("--loop: more than %d loops", MODEL_MAX_LOOPS);
			loops[nloops++] = optarg;
			break;
		case OPT_ONCE:
			s->once = true;
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage_error("unknown option or missing value: %s",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!sock_path)
		usage_error("--socket PATH is required");
	if (names_mode && names_raw)
		usage_error("--names and --names-raw exclude each other");
	if (names_fault != NAMES_FAULT_NONE && (names_mode || names_raw))
		usage_error("--names-fault excludes --names and --names-raw");
	if (!nlines && !allow_zero)
		usage_error("--lines 0 needs --allow-zero-lines");
	if (!nlines && nloops)
		usage_error("--loop: a device with no lines has none to loop");

	if (names_fault != NAMES_FAULT_NONE) {
		names = names_fault_block(names_fault, (uint32_t)nlines,
					  names_fault_size, &names_len);
		if (!names)
			usage_error("--names-fault: padded size %u is smaller than the names",
				    names_fault_size);
	} else if (names_raw) {
		size_t len;

		names = read_file(names_raw, &len);
		if (len > 0xffffffffUL)
			usage_error("--names-raw: %s is too large", names_raw);
		names_len = (uint32_t)len;
	} else if (!names_mode || !strcmp(names_mode, "default")) {
		names = model_default_names((uint32_t)nlines, &names_len);
	} else if (!strcmp(names_mode, "none")) {
		names_len = 0;
	} else if (!strncmp(names_mode, "file:", 5) && names_mode[5]) {
		names = names_from_file(names_mode + 5, (uint32_t)nlines, &names_len);
	} else {
		usage_error("--names: expected default, none or file:PATH, got '%s'",
			    names_mode);
	}
	if (!have_names_size)
		names_size = names_len;
	if (model_init(&s->m, (uint32_t)nlines, names, names_len,
		       (uint32_t)names_size))
		sim_fatal("out of memory");
	free(names);
	s->m.reject_level = reject_level;
	s->m.offer_irq = !no_irq;
	s->m.rules = rules;
	s->m.mock_values = mock_values;
	s->m.reset_keep = reset_keep;
	s->m.behaviour = behaviour ? MODEL_BEHAVIOUR_FIFO : MODEL_BEHAVIOUR_LATCH;
	s->shuffle = shuffle > 0;
	s->crash_after = crash_after;
	for (i = 0; i < nfaults; i++) {
		struct fault f;
		char err[128];

		if (fault_parse(faults[i], (uint32_t)nlines, &f, err, sizeof(err)))
			usage_error("--fault %s: %s", faults[i], err);
		fault_add(&s->m.faults, &f);
	}
	if (fuzz) {
		fuzz_start(&s->m.fz, fuzz_seed, (unsigned int)fuzz_rate);
		fprintf(stderr, "vgpio-sim: fuzz seed %llu\n", fuzz_seed);
	}
	for (i = 0; i < nloops; i++) {
		unsigned long a, b;
		char *colon = strchr(loops[i], ':');

		if (!colon)
			usage_error("--loop: expected A:B, got '%s'", loops[i]);
		*colon = 0;
		a = parse_u("--loop", loops[i], 0, nlines - 1, 10);
		b = parse_u("--loop", colon + 1, 0, nlines - 1, 10);
		model_loop_add(&s->m, (uint32_t)a, (uint32_t)b);
	}

	s->features = (1ULL << VIRTIO_F_VERSION_1) |
		      (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
	if (!no_irq)
		s->features |= 1ULL << VIRTIO_GPIO_F_IRQ;
	if (!no_indirect)
		s->features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (!no_event_idx)
		s->features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	s->protocol_features = (1ULL << VHOST_USER_PROTOCOL_F_CONFIG) |
			       (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	if (sim_init(s) || pipe2(s->wake_fd, O_CLOEXEC | O_NONBLOCK))
		sim_fatal("cannot initialize: %s", strerror(errno));
	the_sim = s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ctl_path) {
		cfd = make_socket(ctl_path, "--ctl");
		ctl_made = true;
	}
	lfd = make_socket(sock_path, "--socket");
	sock_made = true;
	if (cfd >= 0 && ctl_start(s, cfd))
		sim_fatal("cannot start the control thread");
	fprintf(stderr, "vgpio-sim: listening on %s\n", sock_path);

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = s->wake_fd[0], .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			sim_fatal("poll: %s", strerror(errno));
		}
		if (p[1].revents)
			break;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			sim_fatal("accept: %s", strerror(errno));
		}
		sim_log(s, "front end connected");
		i = (unsigned int)vu_serve(s, fd);
		close(fd);
		vu_reset(s);
		if (i)
			break;
		if (s->once) {
			sim_log(s, "front end disconnected, exiting (--once)");
			break;
		}
		sim_log(s, "front end disconnected, waiting for a reconnect");
	}
	remove_sockets();
	return 0;
}
