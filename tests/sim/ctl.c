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
	return parse_num(arg, s->m.nlines - 1, v);
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

static void cmd_get(struct sim *s, uint32_t n, char *r, size_t cap)
{
	const struct line *l = &s->m.lines[n];
	const char *name = s->m.name_of[n] ? s->m.name_of[n] : "-";

	snprintf(r, cap,
		 "ok line=%u dir=%s value=%u level=%u irq=%s masked=%u pending=%u name=%s",
		 n, model_dir_name(l->dir), l->value, l->level,
		 model_irq_name(l->irq_type), l->held ? 0 : 1, l->pending ? 1 : 0,
		 name);
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
		snprintf(r, cap, "ok line=%lu requests=%llu errors=%llu events=%llu invalid=%llu",
			 n, (unsigned long long)ls->requests,
			 (unsigned long long)ls->errors,
			 (unsigned long long)ls->events,
			 (unsigned long long)ls->invalid);
		return;
	}
	if (ac != 1) {
		snprintf(r, cap, "err usage: stats [LINE]");
		return;
	}
	snprintf(r, cap,
		 "ok requests=%llu errors=%llu events=%llu invalid=%llu collapsed=%llu protocol_errors=%llu kicks=%llu batch_max=%llu inflight=%zu",
		 (unsigned long long)st->requests, (unsigned long long)st->errors,
		 (unsigned long long)st->events, (unsigned long long)st->invalid,
		 (unsigned long long)st->collapsed,
		 (unsigned long long)st->protocol_errors,
		 (unsigned long long)st->kicks, (unsigned long long)st->batch_max,
		 s->m.nheld);
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
	} else if (!strcmp(c, "get") && ac == 2) {
		if (parse_line(s, av[1], &a))
			snprintf(r, cap, "err bad line '%s'", av[1]);
		else
			cmd_get(s, (uint32_t)a, r, cap);
	} else if ((!strcmp(c, "level") || !strcmp(c, "fail") ||
		    !strcmp(c, "hang")) && ac == 3) {
		if (parse_line(s, av[1], &a)) {
			snprintf(r, cap, "err bad line '%s'", av[1]);
			return;
		}
		if (parse_num(av[2], 1, &b)) {
			snprintf(r, cap, "err bad value '%s' (0 or 1)", av[2]);
			return;
		}
		if (c[0] == 'l')
			model_set_level(&s->m, (uint32_t)a, (int)b);
		else if (c[0] == 'f')
			model_set_fail(&s->m, (uint32_t)a, b);
		else
			model_set_hang(&s->m, (uint32_t)a, b);
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
	} else if (!strcmp(av[0], "pulse")) {
		cmd_pulse(s, av, ac, reply, cap);
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
	char buf[CTL_LINE_MAX], reply[CTL_LINE_MAX + 64];
	size_t used = 0;
	bool skipping = false;

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
				snprintf(reply, sizeof(reply), "err bad characters");
				quit = 0;
			} else {
				quit = ctl_exec(c->s, buf, reply, sizeof(reply));
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
