// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: one text command per line, one reply line each.
 * Every client has its own thread; all of them share the model lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define CTL_MAX_ARGS	8
#define CTL_LINE_MAX	512
#define CTL_REPLY_MAX	(128 * 1024)	/* edgetimes: 4096 times */
#define PULSE_WAIT_S	5

static int parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v > max)
		return -1;
	return 0;
}

static int parse_line(struct sim *s, const char *arg, unsigned long *v)
{
	if (!s->m.nlines)
		return -1;
	return parse_num(arg, s->m.nlines - 1, v);
}

/* A 64-bit number, decimal or 0x hex. */
static int parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static void ts_add_ns(struct timespec *ts, uint64_t ns)
{
	uint64_t t = (uint64_t)ts->tv_nsec + ns % 1000000000ULL;

	ts->tv_sec += (time_t)(ns / 1000000000ULL + t / 1000000000ULL);
	ts->tv_nsec = (long)(t % 1000000000ULL);
}

static void sleep_until(const struct timespec *ts)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ts, NULL) == EINTR)
		;
}

static void sleep_us(unsigned long us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait (lock held) until @line has a buffer and nothing pending. */
static int wait_ready(struct sim *s, uint32_t line)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += PULSE_WAIT_S;
	while (!model_line_ready(&s->m, line)) {
		if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT)
			return model_line_ready(&s->m, line) ? 0 : -1;
	}
	return 0;
}

/* Edge to @to on @line, waiting for an unmask first if it makes an event. */
static int pulse_edge(struct sim *s, uint32_t line, int to)
{
	struct line *l = &s->m.lines[line];

	if (l->irq_type != VGPIO_IRQ_NONE &&
	    model_edge_makes_event(l->irq_type, !to, to) && wait_ready(s, line))
		return -1;
	model_set_level(&s->m, line, to);
	return 0;
}

static void cmd_pulse(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	unsigned long line, n, period, k;

	if (ac != 4 || parse_line(s, av[1], &line) ||
	    parse_num(av[2], 1000000, &n) ||
	    parse_num(av[3], 60000000, &period)) {
		snprintf(r, cap, "err usage: pulse LINE N PERIOD_US");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->m.lines[line].level) {
		pthread_mutex_unlock(&s->lock);
		snprintf(r, cap, "err level is high");
		return;
	}
	for (k = 1; k <= n; k++) {
		if (pulse_edge(s, (uint32_t)line, 1))
			goto timeout;
		pthread_mutex_unlock(&s->lock);
		sleep_us(period / 2);
		pthread_mutex_lock(&s->lock);
		if (pulse_edge(s, (uint32_t)line, 0))
			goto timeout;
		pthread_mutex_unlock(&s->lock);
		sleep_us(period - period / 2);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	snprintf(r, cap, "ok pulses=%lu", n);
	return;
timeout:
	pthread_mutex_unlock(&s->lock);
	snprintf(r, cap, "err timeout waiting for unmask at pulse %lu", k);
}

struct burst_count {
	uint64_t edges, sent, latched, collapsed;
};

/* One edge to @to on every line of @lines (lock held). */
static void burst_edge(struct sim *s, const uint32_t *lines, unsigned int n,
		       int to, struct burst_count *bc)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		switch (model_set_level(&s->m, lines[i], to)) {
		case MODEL_EDGE_SENT:
			bc->sent++;
			break;
		case MODEL_EDGE_LATCHED:
			bc->latched++;
			break;
		case MODEL_EDGE_COLLAPSED:
			bc->collapsed++;
			break;
		case MODEL_EDGE_LOST:
			break;
		default:
			continue;
		}
		bc->edges++;
	}
}

/*
 * burst L[,L...] N PERIOD_US: free-running pulses at absolute deadlines
 * (the lock is not held while sleeping).
 */
static void cmd_burst(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	unsigned long n, period, v, k;
	struct burst_count bc = { 0 };
	struct timespec t0, t;
	unsigned int nl = 0, i;
	uint32_t *lines = NULL;
	char *save = NULL, *tok;

	if (ac != 4 || parse_num(av[2], 1000000, &n) ||
	    parse_num(av[3], 60000000, &period))
		goto usage;
	lines = calloc(s->m.nlines ? s->m.nlines : 1, sizeof(*lines));
	if (!lines) {
		snprintf(r, cap, "err out of memory");
		return;
	}
	for (tok = strtok_r(av[1], ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (parse_line(s, tok, &v) || nl == s->m.nlines)
			goto usage;
		for (i = 0; i < nl; i++) {
			if (lines[i] == v) {
				snprintf(r, cap, "err line %lu given twice", v);
				goto out;
			}
		}
		lines[nl++] = (uint32_t)v;
	}
	if (!nl)
		goto usage;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < nl; i++) {
		if (s->m.lines[lines[i]].level) {
			pthread_mutex_unlock(&s->lock);
			snprintf(r, cap, "err level is high on line %u", lines[i]);
			goto out;
		}
	}
	pthread_mutex_unlock(&s->lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < n; k++) {
		t = t0;
		ts_add_ns(&t, (uint64_t)k * period * 1000);
		sleep_until(&t);
		pthread_mutex_lock(&s->lock);
		burst_edge(s, lines, nl, 1, &bc);
		pthread_mutex_unlock(&s->lock);
		t = t0;
		ts_add_ns(&t, ((uint64_t)k * period + period / 2) * 1000);
		sleep_until(&t);
		pthread_mutex_lock(&s->lock);
		burst_edge(s, lines, nl, 0, &bc);
		pthread_mutex_unlock(&s->lock);
	}
	t = t0;
	ts_add_ns(&t, (uint64_t)n * period * 1000);
	sleep_until(&t);
	snprintf(r, cap, "ok pulses=%lu edges=%llu sent=%llu latched=%llu collapsed=%llu",
		 n, (unsigned long long)bc.edges, (unsigned long long)bc.sent,
		 (unsigned long long)bc.latched,
		 (unsigned long long)bc.collapsed);
	goto out;
usage:
	snprintf(r, cap, "err usage: burst LINE[,LINE...] N PERIOD_US");
out:
	free(lines);
}

static void cmd_get(struct sim *s, uint32_t n, char *r, size_t cap)
{
	const struct line *l = &s->m.lines[n];
	const char *name = s->m.name_of[n] ? s->m.name_of[n] : "-";

	unsigned int kept = model_line_kept(&s->m, n);

	snprintf(r, cap,
		 "ok line=%u dir=%s value=%u level=%u irq=%s masked=%u pending=%u name=%s stale=%u queued=%u orphan=%u",
		 n, model_dir_name(l->dir), l->value, l->level,
		 model_irq_name(l->irq_type), l->held ? 0 : 1, kept ? 1 : 0,
		 name, l->stale ? 1 : 0, kept, l->orphan ? 1 : 0);
}

/*
 * irqstate: every line's event count and interrupt state in one reply,
 * "ok LINE:EVENTS:MASKED:PENDING ..." (masked and pending as in "get"), so
 * a guest that scans many lines pays for one round trip, not two a line.
 */
static void cmd_irqstate(struct sim *s, char *r, size_t cap)
{
	size_t off;
	uint32_t n;

	off = (size_t)snprintf(r, cap, "ok");
	for (n = 0; n < s->m.nlines && off < cap; n++) {
		const struct line *l = &s->m.lines[n];

		off += (size_t)snprintf(r + off, cap - off, " %u:%llu:%u:%u", n,
					(unsigned long long)l->st.events,
					l->held ? 0 : 1,
					model_line_kept(&s->m, n) ? 1 : 0);
	}
}

static void cmd_edgetimes(struct sim *s, uint32_t line, char *r, size_t cap)
{
	uint64_t *t = malloc(MODEL_EDGETIMES * sizeof(*t));
	size_t off;
	uint32_t n, i;

	if (!t) {
		snprintf(r, cap, "err out of memory");
		return;
	}
	n = model_edgetimes(&s->m, line, t, MODEL_EDGETIMES);
	off = (size_t)snprintf(r, cap, "ok n=%u t=", n);
	for (i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(r + off, cap - off, "%s%llu", i ? "," : "",
					(unsigned long long)t[i]);
	free(t);
}

static void cmd_fault(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	struct fault_table *ft = &s->m.faults;
	struct fault f;
	char err[128];
	unsigned long id;
	unsigned int i;
	size_t off;

	if (ac == 2 && !strcmp(av[1], "list")) {
		off = (size_t)snprintf(r, cap, "ok %u faults:", ft->n);
		for (i = 0; i < ft->n && off < cap; i++) {
			off += (size_t)snprintf(r + off, cap - off, "%s ", i ? ";" : "");
			if (off < cap)
				off += (size_t)fault_format(&ft->f[i], r + off, cap - off);
		}
	} else if ((ac == 2 || ac == 3) && !strcmp(av[1], "clear")) {
		if (ac == 3 && (parse_num(av[2], 0xffffffffUL, &id) || !id))
			snprintf(r, cap, "err bad fault id '%s'", av[2]);
		else if (fault_clear(ft, ac == 3 ? (uint32_t)id : 0))
			snprintf(r, cap, "err no fault id=%lu", id);
		else
			snprintf(r, cap, "ok");
	} else if (ac == 2) {
		if (fault_parse(av[1], s->m.nlines, &f, err, sizeof(err))) {
			snprintf(r, cap, "err %s", err);
			return;
		}
		id = fault_add(ft, &f);
		if (!id)
			snprintf(r, cap, "err fault table full (%d)", FAULT_MAX);
		else
			snprintf(r, cap, "ok id=%lu", id);
	} else {
		snprintf(r, cap, "err usage: fault SPEC | fault list | fault clear [ID]");
	}
}

static void cmd_fuzz(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	unsigned long rate = 10;
	uint64_t seed;

	if (ac == 2 && !strcmp(av[1], "off")) {
		s->m.fz.on = false;
		snprintf(r, cap, "ok");
		return;
	}
	if ((ac != 2 && ac != 3) || parse_u64(av[1], &seed) ||
	    (ac == 3 && parse_num(av[2], 100, &rate))) {
		snprintf(r, cap, "err usage: fuzz SEED [RATE_PERCENT] | fuzz off");
		return;
	}
	fuzz_start(&s->m.fz, seed, (unsigned int)rate);
	fprintf(stderr, "vgpio-sim: fuzz seed %llu\n", (unsigned long long)seed);
	snprintf(r, cap, "ok seed=%llu rate=%lu", (unsigned long long)seed, rate);
}

static void cmd_fuzz_stats(struct sim *s, char *r, size_t cap)
{
	const struct fuzz *fz = &s->m.fz;
	size_t off;
	int k;

	off = (size_t)snprintf(r, cap, "ok seed=%llu requests=%llu events=%llu faults=%llu",
			       (unsigned long long)fz->seed,
			       (unsigned long long)fz->nreq,
			       (unsigned long long)fz->nev,
			       (unsigned long long)fz->faults);
	for (k = 1; k < FAULT_NKINDS && off < cap; k++)
		off += (size_t)snprintf(r + off, cap - off, " %s=%llu",
					fault_kind_name((uint8_t)k),
					(unsigned long long)fz->per_kind[k]);
}

static void cmd_stats(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	const struct model_stats *st = &s->m.st;
	unsigned long n;

	if (ac == 2) {
		const struct line_stats *ls;

		if (parse_line(s, av[1], &n)) {
			snprintf(r, cap, "err bad line '%s'", av[1]);
			return;
		}
		ls = &s->m.lines[n].st;
		snprintf(r, cap, "ok line=%lu requests=%llu errors=%llu events=%llu invalid=%llu edges=%llu latched=%llu collapsed=%llu queued=%u",
			 n, (unsigned long long)ls->requests,
			 (unsigned long long)ls->errors,
			 (unsigned long long)ls->events,
			 (unsigned long long)ls->invalid,
			 (unsigned long long)ls->edges,
			 (unsigned long long)ls->latched,
			 (unsigned long long)ls->collapsed,
			 model_line_kept(&s->m, (uint32_t)n));
		return;
	}
	if (ac != 1) {
		snprintf(r, cap, "err usage: stats [LINE]");
		return;
	}
	snprintf(r, cap,
		 "ok requests=%llu errors=%llu events=%llu invalid=%llu collapsed=%llu protocol_errors=%llu kicks=%llu batch_max=%llu inflight=%zu stale=%u faults=%llu storm=%llu dead_queue=%u svc_n=%llu svc_total_ns=%llu svc_max_ns=%llu calls_req=%llu calls_evt=%llu",
		 (unsigned long long)st->requests, (unsigned long long)st->errors,
		 (unsigned long long)st->events, (unsigned long long)st->invalid,
		 (unsigned long long)st->collapsed,
		 (unsigned long long)st->protocol_errors,
		 (unsigned long long)st->kicks, (unsigned long long)st->batch_max,
		 s->m.nheld, model_stale_count(&s->m),
		 (unsigned long long)st->faults, (unsigned long long)st->storm,
		 s->m.dead_queue ? 1 : 0, (unsigned long long)st->svc_n,
		 (unsigned long long)st->svc_total_ns,
		 (unsigned long long)st->svc_max_ns,
		 (unsigned long long)st->calls[0],
		 (unsigned long long)st->calls[1]);
}

/* A type name of "get" (rising, falling, both, high, low): its value. */
static int irq_type_of(const char *name)
{
	static const uint8_t types[] = {
		VGPIO_IRQ_EDGE_RISING, VGPIO_IRQ_EDGE_FALLING,
		VGPIO_IRQ_EDGE_BOTH, VGPIO_IRQ_LEVEL_HIGH, VGPIO_IRQ_LEVEL_LOW,
	};
	unsigned int i;

	for (i = 0; i < sizeof(types); i++)
		if (!strcmp(name, model_irq_name(types[i])))
			return types[i];
	return -1;
}

/* refuse L none|TYPE[,TYPE...] */
static void cmd_refuse(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	char *save = NULL, *tok;
	unsigned long line;
	uint16_t mask = 0;
	int t;

	if (ac != 3 || parse_line(s, av[1], &line)) {
		snprintf(r, cap, "err usage: refuse LINE none|TYPE[,TYPE...]");
		return;
	}
	if (strcmp(av[2], "none")) {
		for (tok = strtok_r(av[2], ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			t = irq_type_of(tok);
			if (t < 0) {
				snprintf(r, cap, "err bad type '%s' (rising, falling, both, high, low)",
					 tok);
				return;
			}
			mask |= (uint16_t)(1U << t);
		}
	}
	model_set_refuse(&s->m, (uint32_t)line, mask);
	snprintf(r, cap, "ok");
}

/* Parse an optional seed for the shuffles (0 is not a seed). */
static int parse_seed(struct sim *s, char **av, int ac, int i)
{
	uint64_t seed;

	if (ac <= i)
		return 0;
	if (parse_u64(av[i], &seed) || !seed)
		return -1;
	s->rng = seed;
	return 0;
}

static const char *order_name(const struct sim *s)
{
	return s->shuffle ? "shuffle" : "ring";
}

/* behaviour latch|fifo [SEED], order ring|shuffle [SEED] */
static void cmd_behaviour(struct sim *s, char **av, int ac, char *r,
			  size_t cap)
{
	bool fifo, order = !strcmp(av[0], "order");
	const char *a = ac > 1 ? av[1] : "";

	if (order ? strcmp(a, "ring") && strcmp(a, "shuffle") :
	    strcmp(a, "latch") && strcmp(a, "fifo")) {
		snprintf(r, cap, order ? "err usage: order ring|shuffle [SEED]" :
			 "err usage: behaviour latch|fifo [SEED]");
		return;
	}
	if (ac > 3 || parse_seed(s, av, ac, 2)) {
		snprintf(r, cap, "err bad seed (a number other than 0)");
		return;
	}
	if (order) {
		s->shuffle = !strcmp(a, "shuffle");
	} else {
		fifo = !strcmp(a, "fifo");
		model_set_behaviour(&s->m, fifo ? MODEL_BEHAVIOUR_FIFO :
				    MODEL_BEHAVIOUR_LATCH);
		s->shuffle = fifo;
	}
	snprintf(r, cap, "ok behaviour=%s order=%s",
		 s->m.behaviour == MODEL_BEHAVIOUR_FIFO ? "fifo" : "latch",
		 order_name(s));
}

/* irq-delay US [recheck] */
static void cmd_irq_delay(struct sim *s, char **av, int ac, char *r,
			  size_t cap)
{
	unsigned long us;

	if (ac < 2 || ac > 3 || parse_num(av[1], 1000000, &us) ||
	    (ac == 3 && strcmp(av[2], "recheck"))) {
		snprintf(r, cap, "err usage: irq-delay US [recheck] (US up to 1000000)");
		return;
	}
	s->irq_delay_ns = (uint64_t)us * 1000;
	s->irq_recheck = ac == 3;
	snprintf(r, cap, "ok");
}

/* Commands that only take the lock briefly. */
static void cmd_locked(struct sim *s, char **av, int ac, char *r, size_t cap)
{
	const char *c = av[0];
	unsigned long a, b;

	if (!strcmp(c, "stats")) {
		cmd_stats(s, av, ac, r, cap);
	} else if (!strcmp(c, "reset-stats") && ac == 1) {
		model_reset_stats(&s->m);
		snprintf(r, cap, "ok");
	} else if (!strcmp(c, "irqstate") && ac == 1) {
		cmd_irqstate(s, r, cap);
	} else if (!strcmp(c, "get") && ac == 2) {
		if (parse_line(s, av[1], &a))
			snprintf(r, cap, "err bad line '%s'", av[1]);
		else
			cmd_get(s, (uint32_t)a, r, cap);
	} else if ((!strcmp(c, "level") || !strcmp(c, "fail") ||
		    !strcmp(c, "hang")) && ac == 3) {
		unsigned long last;
		char *dash = c[0] == 'l' ? NULL : strchr(av[1], '-');

		/* fail and hang also take a range of lines, A-B. */
		if (dash)
			*dash = 0;
		if (parse_line(s, av[1], &a) ||
		    (dash && (parse_line(s, dash + 1, &last) || last < a))) {
			snprintf(r, cap, "err bad line '%s'", av[1]);
			return;
		}
		if (!dash)
			last = a;
		if (parse_num(av[2], 1, &b)) {
			snprintf(r, cap, "err bad value '%s' (0 or 1)", av[2]);
			return;
		}
		for (; a <= last; a++) {
			if (c[0] == 'l')
				model_set_level(&s->m, (uint32_t)a, (int)b);
			else if (c[0] == 'f')
				model_set_fail(&s->m, (uint32_t)a, b);
			else
				model_set_hang(&s->m, (uint32_t)a, b);
		}
		snprintf(r, cap, "ok");
	} else if (!strcmp(c, "edgetimes") && ac == 2) {
		if (parse_line(s, av[1], &a))
			snprintf(r, cap, "err bad line '%s'", av[1]);
		else
			cmd_edgetimes(s, (uint32_t)a, r, cap);
	} else if (!strcmp(c, "reset-mode") && ac == 2 &&
		   (!strcmp(av[1], "keep") || !strcmp(av[1], "forget"))) {
		s->m.reset_keep = av[1][0] == 'k';
		snprintf(r, cap, "ok");
	} else if (!strcmp(c, "state-reset") && ac == 1) {
		model_device_reset(&s->m);
		snprintf(r, cap, "ok");
	} else if (!strcmp(c, "rules") && ac == 2 &&
		   (!strcmp(av[1], "spec") || !strcmp(av[1], "rust-vmm"))) {
		s->m.rules = av[1][0] == 's' ? MODEL_RULES_SPEC : MODEL_RULES_RUST_VMM;
		snprintf(r, cap, "ok");
	} else if (!strcmp(c, "mock-values") && ac == 2) {
		if (parse_num(av[1], 1, &a)) {
			snprintf(r, cap, "err bad value '%s' (0 or 1)", av[1]);
			return;
		}
		s->m.mock_values = a;
		snprintf(r, cap, "ok");
	} else if (!strcmp(c, "refuse")) {
		cmd_refuse(s, av, ac, r, cap);
	} else if (!strcmp(c, "behaviour") || !strcmp(c, "order")) {
		cmd_behaviour(s, av, ac, r, cap);
	} else if (!strcmp(c, "irq-delay")) {
		cmd_irq_delay(s, av, ac, r, cap);
	} else if (!strcmp(c, "fault")) {
		cmd_fault(s, av, ac, r, cap);
	} else if (!strcmp(c, "fuzz")) {
		cmd_fuzz(s, av, ac, r, cap);
	} else if (!strcmp(c, "fuzz-stats") && ac == 1) {
		cmd_fuzz_stats(s, r, cap);
	} else if ((!strcmp(c, "stall-queue") || !strcmp(c, "unstall-queue")) &&
		   ac == 2) {
		if (parse_num(av[1], SIM_NQUEUES - 1, &a)) {
			snprintf(r, cap, "err bad queue '%s' (0 requestq, 1 eventq)", av[1]);
			return;
		}
		vu_stall(s, (unsigned int)a, c[0] == 's');
		snprintf(r, cap, "ok");
	} else if ((!strcmp(c, "loop") || !strcmp(c, "unloop")) && ac == 3) {
		if (parse_line(s, av[1], &a) || parse_line(s, av[2], &b)) {
			snprintf(r, cap, "err bad line");
			return;
		}
		if (c[0] == 'l' ? model_loop_add(&s->m, (uint32_t)a, (uint32_t)b) :
		    model_loop_del(&s->m, (uint32_t)a, (uint32_t)b))
			snprintf(r, cap, c[0] == 'l' ? "err too many loops" :
				 "err no such loop");
		else
			snprintf(r, cap, "ok");
	} else {
		snprintf(r, cap, "err unknown command or bad arguments: %s", c);
	}
}

int ctl_exec(struct sim *s, char *line, char *reply, size_t cap)
{
	char *av[CTL_MAX_ARGS + 1], *save = NULL, *t;
	int ac = 0;

	for (t = strtok_r(line, " \t\r\n", &save); t;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (ac == CTL_MAX_ARGS) {
			snprintf(reply, cap, "err too many arguments");
			return 0;
		}
		av[ac++] = t;
	}
	av[ac] = NULL;
	if (!ac) {
		reply[0] = 0;
		return 0;
	}
	if (!strcmp(av[0], "ping") && ac == 1) {
		snprintf(reply, cap, "ok pong");
	} else if (!strcmp(av[0], "quit") && ac == 1) {
		snprintf(reply, cap, "ok");
		return 1;
	} else if (!strcmp(av[0], "crash") && ac == 1) {
		/* A back end that dies: no reply, no cleanup. */
		fprintf(stderr, "vgpio-sim: crashing (control command crash)\n");
		_exit(3);
	} else if (!strcmp(av[0], "clock") && ac == 1) {
		snprintf(reply, cap, "ok mono_ns=%llu",
			 (unsigned long long)sim_now_ns());
	} else if (!strcmp(av[0], "pulse")) {
		cmd_pulse(s, av, ac, reply, cap);
	} else if (!strcmp(av[0], "burst")) {
		cmd_burst(s, av, ac, reply, cap);
	} else {
		pthread_mutex_lock(&s->lock);
		cmd_locked(s, av, ac, reply, cap);
		pthread_mutex_unlock(&s->lock);
	}
	return 0;
}

struct ctl_client {
	struct sim *s;
	int fd;
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *ctl_client_thread(void *arg)
{
	struct ctl_client *c = arg;
	char buf[CTL_LINE_MAX], *reply = malloc(CTL_REPLY_MAX);
	size_t used = 0;
	bool skipping = false;

	if (!reply)
		goto out;
	for (;;) {
		ssize_t n = read(c->fd, buf + used, sizeof(buf) - used);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		while ((nl = memchr(buf, '\n', used))) {
			size_t len = (size_t)(nl - buf) + 1;
			int quit;

			*nl = 0;
			if (skipping) {
				skipping = false;
				memmove(buf, buf + len, used - len);
				used -= len;
				continue;
			}
			if (memchr(buf, 0, len - 1)) {
				/* Binary noise on the line: never a command. */
				snprintf(reply, CTL_REPLY_MAX, "err bad characters");
				quit = 0;
			} else {
				/* One byte stays for the newline. */
				quit = ctl_exec(c->s, buf, reply, CTL_REPLY_MAX - 1);
			}
			memmove(buf, buf + len, used - len);
			used -= len;
			if (reply[0]) {
				sim_log(c->s, "ctl: -> %s", reply);
				strcat(reply, "\n");
				if (write_all(c->fd, reply, strlen(reply)))
					goto out;
			}
			if (quit)
				sim_wake(c->s, 'q');
		}
		if (used == sizeof(buf)) {
			/* Too long for a command: answer once, drop the rest. */
			if (!skipping &&
			    write_all(c->fd, "err line too long\n", 18))
				break;
			skipping = true;
			used = 0;
		}
	}
out:
	close(c->fd);
	free(reply);
	free(c);
	return NULL;
}

static void *ctl_accept_thread(void *arg)
{
	struct sim *s = ((struct ctl_client *)arg)->s;
	int lfd = ((struct ctl_client *)arg)->fd;

	free(arg);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct ctl_client *c;
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			sim_fatal("control socket accept: %s", strerror(errno));
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		if (pthread_create(&t, NULL, ctl_client_thread, c)) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

int ctl_start(struct sim *s, int listen_fd)
{
	struct ctl_client *a = malloc(sizeof(*a));
	pthread_t t;

	if (!a)
		return -1;
	a->s = s;
	a->fd = listen_fd;
	if (pthread_create(&t, NULL, ctl_accept_thread, a)) {
		free(a);
		return -1;
	}
	pthread_detach(t);
	return 0;
}
