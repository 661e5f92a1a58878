// SPDX-License-Identifier: GPL-2.0
/*
 * The vhost-user back end: messages from the front end (QEMU), guest memory,
 * kick/call eventfds and the two virtqueues of the GPIO device.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

enum {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
};

#define VHOST_USER_VERSION	0x1
#define VHOST_USER_VERSION_MASK	0x3
#define VHOST_USER_REPLY	0x4
#define VHOST_USER_NEED_REPLY	0x8
#define VHOST_USER_VRING_NOFD	(1ULL << 8)
#define VHOST_USER_VRING_IDX	0xffULL
#define VHOST_USER_MAX_FDS	8
#define VHOST_USER_CONFIG_HDR	12
#define VHOST_USER_CONFIG_MAX	256

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vu_state {
	uint32_t index;
	uint32_t num;
};

struct vu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
};

struct vu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region r[SIM_MAX_REGIONS];
};

struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t data[VHOST_USER_CONFIG_MAX];
};

union vu_payload {
	uint64_t u64;
	struct vu_state state;
	struct vu_addr addr;
	struct vu_mem mem;
	struct vu_config config;
	struct { uint64_t padding; struct vu_region r; } one;
	uint8_t raw[sizeof(struct vu_config)];
};

struct vu_msg {
	struct vu_hdr hdr;
	union vu_payload p;
	int fds[VHOST_USER_MAX_FDS];
	int nfds;
};

static const char *vu_name(uint32_t req)
{
	static const char *const names[] = {
		[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
		[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
		[VHOST_USER_SET_OWNER] = "SET_OWNER",
		[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
		[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
		[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
		[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
		[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
		[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
		[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
		[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
		[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
		[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
		[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
		[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
		[VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
		[VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
		[VHOST_USER_SET_STATUS] = "SET_STATUS",
		[VHOST_USER_GET_STATUS] = "GET_STATUS",
	};

	if (req < sizeof(names) / sizeof(names[0]) && names[req])
		return names[req];
	return "UNKNOWN";
}

/* ---- guest memory ---- */

static void *xlate_gpa(void *ctx, uint64_t gpa, uint64_t len)
{
	struct sim *s = ctx;
	unsigned int i;

	for (i = 0; i < s->nreg; i++) {
		struct mem_region *r = &s->reg[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

static void *xlate_uva(struct sim *s, uint64_t uva, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < s->nreg; i++) {
		struct mem_region *r = &s->reg[i];

		if (uva >= r->uva && uva - r->uva < r->size &&
		    len <= r->size - (uva - r->uva))
			return r->host + (uva - r->uva);
	}
	return NULL;
}

static void region_unmap(struct mem_region *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	memset(r, 0, sizeof(*r));
}

static void mem_clear(struct sim *s)
{
	unsigned int i;

	for (i = 0; i < s->nreg; i++)
		region_unmap(&s->reg[i]);
	s->nreg = 0;
}

static void region_map(struct sim *s, struct mem_region *r,
		       const struct vu_region *src, int fd)
{
	uint64_t len = src->size + src->mmap_offset;

	if (!src->size || len < src->size || len > SIZE_MAX)
		sim_fatal("memory region of bad size 0x%llx+0x%llx",
			  (unsigned long long)src->size,
			  (unsigned long long)src->mmap_offset);
	r->map = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (r->map == MAP_FAILED)
		sim_fatal("cannot map guest memory (0x%llx bytes): %s (share=on?)",
			  (unsigned long long)len, strerror(errno));
	r->map_len = (size_t)len;
	r->gpa = src->gpa;
	r->size = src->size;
	r->uva = src->uva;
	r->mmap_offset = src->mmap_offset;
	r->host = (uint8_t *)r->map + src->mmap_offset;
	sim_log(s, "  region gpa 0x%llx size 0x%llx uva 0x%llx offset 0x%llx",
		(unsigned long long)r->gpa, (unsigned long long)r->size,
		(unsigned long long)r->uva, (unsigned long long)r->mmap_offset);
}

uint64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- queues ---- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void vq_drop_held(struct sim_vq *vq)
{
	unsigned int i;

	for (i = 0; i < vq->held_num; i++) {
		free(vq->held[i]);
		vq->held[i] = NULL;
	}
}

/* The ring stops: forget what the device held from it. */
static void vq_stop(struct sim *s, unsigned int q)
{
	struct sim_vq *vq = &s->vq[q];

	vq->running = false;
	vq_drop_held(vq);
	vq->npend = 0;
	vq->reo_n = 0;
	vq->call_armed = false;
	if (q == 0)
		model_reqq_reset(&s->m);
	else
		model_evq_reset(&s->m);
	pthread_cond_broadcast(&s->cond);
}

/* The vhost-user thread must look at its timers again. */
static void timer_kick(struct sim *s)
{
	uint64_t one = 1;

	if (write(s->timer_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		sim_log(s, "timer eventfd write: %s", strerror(errno));
}

static void vq_call(struct sim *s, unsigned int q)
{
	struct sim_vq *vq = &s->vq[q];
	uint64_t one = 1;

	s->m.st.calls[q]++;
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		sim_log(s, "queue %u: call eventfd write: %s", q, strerror(errno));
}

/*
 * After one or more pushes: notify the driver if it wants a call, at once
 * or, with irq-delay, later (the used index is already published).
 */
static void vq_notify(struct sim *s, unsigned int q)
{
	struct sim_vq *vq = &s->vq[q];

	if (!vq->running || vq->call_fd < 0)
		return;
	if (!s->irq_delay_ns) {
		if (vring_should_notify(&vq->vr))
			vq_call(s, q);
		return;
	}
	if (!s->irq_recheck && !vring_should_notify(&vq->vr))
		return;
	if (!vq->call_armed) {
		vq->call_armed = true;
		vq->call_due = sim_now_ns() + s->irq_delay_ns;
		timer_kick(s);
	}
}

static void vq_push_now(struct sim_vq *vq, const struct vq_pend *p)
{
	vring_push_n(&vq->vr, p->head, p->len, p->twice ? 2 : 1);
}

static void pend_add(struct sim *s, struct sim_vq *vq, const struct vq_pend *p)
{
	if (vq->npend == vq->pend_cap) {
		size_t nc = vq->pend_cap ? vq->pend_cap * 2 : 16;
		struct vq_pend *n = realloc(vq->pend, nc * sizeof(*n));

		if (!n)
			sim_fatal("out of memory");
		vq->pend = n;
		vq->pend_cap = nc;
	}
	vq->pend[vq->npend++] = *p;
	timer_kick(s);
}

/* Reordered buffers go back newest first. */
static void reorder_flush(struct sim_vq *vq)
{
	while (vq->reo_n)
		vq_push_now(vq, &vq->reo[--vq->reo_n]);
}

/*
 * Put what is due on the used ring of a running, unstalled queue; *next
 * gets the earliest later deadline. Returns true when something went out.
 */
static bool vq_flush_due(struct sim *s, unsigned int q, uint64_t now,
			 uint64_t *next)
{
	struct sim_vq *vq = &s->vq[q];
	bool pushed = false;
	size_t i, j;

	if (!vq->running || vq->stalled)
		return false;
	for (i = 0, j = 0; i < vq->npend; i++) {
		if (vq->pend[i].due <= now) {
			vq_push_now(vq, &vq->pend[i]);
			pushed = true;
		} else {
			if (vq->pend[i].due < *next)
				*next = vq->pend[i].due;
			vq->pend[j++] = vq->pend[i];
		}
	}
	vq->npend = j;
	if (vq->reo_n && (vq->reo_due <= now || vq->reo_n >= vq->reo_want)) {
		reorder_flush(vq);
		pushed = true;
	} else if (vq->reo_n && vq->reo_due < *next) {
		*next = vq->reo_due;
	}
	if (pushed)
		sim_log(s, "queue %u: deferred buffers returned", q);
	return pushed;
}

/* A delayed notification that is due goes out (irq-delay). */
static void vq_call_due(struct sim *s, unsigned int q, uint64_t now,
			uint64_t *next)
{
	struct sim_vq *vq = &s->vq[q];

	if (!vq->call_armed)
		return;
	if (vq->call_due > now) {
		if (vq->call_due < *next)
			*next = vq->call_due;
		return;
	}
	vq->call_armed = false;
	if (!vq->running || vq->call_fd < 0)
		return;
	if (!s->irq_recheck || vring_should_notify(&vq->vr))
		vq_call(s, q);
}

/*
 * Deferred replies and notifications that are due go out; returns the
 * time until the next one in ns, or -1 for none.
 */
static int64_t vu_timers(struct sim *s)
{
	uint64_t now = sim_now_ns(), next = UINT64_MAX;
	unsigned int q;

	for (q = 0; q < SIM_NQUEUES; q++)
		if (vq_flush_due(s, q, now, &next))
			vq_notify(s, q);
	/* What vq_notify() just armed is due later, not now. */
	for (q = 0; q < SIM_NQUEUES; q++)
		vq_call_due(s, q, now, &next);
	if (next == UINT64_MAX)
		return -1;
	return (int64_t)(next - now);
}

/*
 * The buffer @head of queue @q is answered: @written bytes are in it, of
 * @wlen writable. @act says how it goes back. Returns true when it is on
 * the used ring now (the caller notifies).
 */
static bool vq_complete(struct sim *s, unsigned int q, uint16_t head,
			size_t written, size_t wlen, const struct fault_act *act)
{
	struct sim_vq *vq = &s->vq[q];
	struct vq_pend p = { head, (uint32_t)written, false, 0 };

	switch (act->kind) {
	case FAULT_DROP:
		sim_log(s, "queue %u: fault: buffer %u dropped", q, head);
		return false;
	case FAULT_LEN_SHORT:
		p.len = (uint32_t)(written / 2);
		break;
	case FAULT_LEN_LONG:
		p.len = wlen + 8 > UINT32_MAX ? UINT32_MAX : (uint32_t)(wlen + 8);
		break;
	case FAULT_LEN_ZERO:
		p.len = 0;
		break;
	case FAULT_TWICE:
		p.twice = true;
		break;
	case FAULT_DELAY:
		p.due = sim_now_ns() + (uint64_t)act->arg * 1000000;
		pend_add(s, vq, &p);
		return false;
	case FAULT_REORDER:
		if (vq->reo_n == SIM_REORDER_MAX && !vq->stalled) {
			reorder_flush(vq);
			vq_notify(s, q);
		} else if (vq->reo_n == SIM_REORDER_MAX) {
			/* Stalled and full: the oldest goes to the stall list. */
			pend_add(s, vq, &vq->reo[0]);
			memmove(vq->reo, vq->reo + 1, --vq->reo_n * sizeof(vq->reo[0]));
		}
		if (!vq->reo_n)
			vq->reo_due = sim_now_ns() + FAULT_REORDER_MS * 1000000ULL;
		vq->reo[vq->reo_n++] = p;
		vq->reo_want = act->arg;
		if (vq->reo_n >= vq->reo_want && !vq->stalled) {
			reorder_flush(vq);
			vq_notify(s, q);
		} else {
			timer_kick(s);
		}
		return false;
	default:
		break;
	}
	if (act->kind != FAULT_NONE)
		sim_log(s, "queue %u: fault %s on buffer %u", q,
			fault_kind_name(act->kind), head);
	if (vq->stalled) {
		pend_add(s, vq, &p);
		return false;
	}
	vq_push_now(vq, &p);
	return true;
}

static void vq_hold(struct sim_vq *vq, const struct vring_chain *ch)
{
	struct vring_chain *c = malloc(sizeof(*c));

	if (!c)
		sim_fatal("out of memory");
	*c = *ch;
	free(vq->held[ch->head]);
	vq->held[ch->head] = c;
}

/* Model callback: an event buffer goes back to the driver. */
static void ev_done(void *ctx, uint32_t token, uint8_t status,
		    const struct fault_act *act)
{
	struct sim *s = ctx;
	struct sim_vq *vq = &s->vq[1];
	struct vring_chain *c;
	size_t n;

	if (!vq->running || token >= vq->held_num || !vq->held[token])
		return;
	c = vq->held[token];
	vq->held[token] = NULL;
	n = vring_write(c, &status, 1);
	sim_log(s, "eventq: buffer %u back %s", token,
		status == VGPIO_EVENT_VALID ? "VALID" :
		status == VGPIO_EVENT_INVALID ? "INVALID" : "with a bad status");
	if (vq_complete(s, 1, (uint16_t)token, n, c->wlen, act))
		vq_notify(s, 1);
	free(c);
}

static uint64_t now_cb(void *ctx)
{
	(void)ctx;
	return sim_now_ns();
}

/* Model callback: a held request is answered late. */
static void req_done(void *ctx, uint32_t token, const uint8_t *resp,
		     size_t len)
{
	static const struct fault_act none = { FAULT_NONE, 0 };
	struct sim *s = ctx;
	struct sim_vq *vq = &s->vq[0];
	struct vring_chain *c;
	size_t n;

	if (!vq->running || token >= vq->held_num || !vq->held[token])
		return;
	c = vq->held[token];
	vq->held[token] = NULL;
	n = vring_write(c, resp, len);
	sim_log(s, "requestq: late reply to %u status %u", token, resp[0]);
	if (vq_complete(s, 0, (uint16_t)token, n, c->wlen, &none))
		vq_notify(s, 0);
	free(c);
}

static const char *req_name(uint16_t type)
{
	static const char *const n[] = {
		"?", "GET_LINE_NAMES", "GET_DIRECTION", "SET_DIRECTION",
		"GET_VALUE", "SET_VALUE", "SET_IRQ_TYPE",
	};

	return type < 7 ? n[type] : "?";
}

/* A request executed, its reply written, not yet on the used ring. */
struct req_done {
	uint16_t head;
	size_t written, wlen;
	struct fault_act act;
	uint64_t t0;		/* when it was taken off the ring */
};

/* The reply of @d goes on the used ring (or as its fault says). */
static void request_complete(struct sim *s, const struct req_done *d)
{
	struct model_stats *st = &s->m.st;
	uint64_t dt;

	if (!vq_complete(s, 0, d->head, d->written, d->wlen, &d->act))
		return;
	dt = sim_now_ns() - d->t0;
	st->svc_n++;
	st->svc_total_ns += dt;
	if (dt > st->svc_max_ns)
		st->svc_max_ns = dt;
}

/*
 * Execute one request and write its reply into the chain's buffers; true
 * when @d is to be completed (not held, the queue not dead).
 */
static bool request_exec(struct sim *s, struct vring_chain *ch, uint64_t t0,
			 struct req_done *d)
{
	struct sim_vq *vq = &s->vq[0];
	uint8_t rd[8] = { 0 };
	struct fault_act act;
	int n;

	if (s->crash_after && s->nreq_taken++ == s->crash_after) {
		/* --crash-after: a back end that dies, request in flight. */
		fprintf(stderr, "vgpio-sim: crashing after %llu requests (--crash-after)\n",
			(unsigned long long)s->crash_after);
		_exit(3);
	}
	vring_read(ch, rd, sizeof(rd));
	if (ch->rlen < 8 || ch->wlen < 2)
		sim_log(s, "requestq: short buffers (%zu readable, %zu writable)",
			ch->rlen, ch->wlen);
	n = model_request(&s->m, rd, ch->rlen, s->resp, ch->wlen, ch->head,
			  &act);
	if (s->verbose)
		sim_log(s, "requestq: %s gpio %u value %u -> %s",
			req_name((uint16_t)(rd[0] | rd[1] << 8)),
			rd[2] | rd[3] << 8,
			(unsigned int)(rd[4] | rd[5] << 8 | rd[6] << 16 |
				       (uint32_t)rd[7] << 24),
			n == MODEL_HELD ? "held" : n == MODEL_DEAD ? "queue dead" :
			n == 0 ? "no room" : s->resp[0] ? "ERR" : "OK");
	if (n == MODEL_HELD) {
		vq_hold(vq, ch);
		return false;
	}
	if (n == MODEL_DEAD) {
		fprintf(stderr, "vgpio-sim: request for a line out of range: the request queue is dead until the front end reconnects (--rules rust-vmm)\n");
		return false;
	}
	d->head = ch->head;
	d->written = vring_write(ch, s->resp, (size_t)n);
	d->wlen = ch->wlen;
	d->act = act;
	d->t0 = t0;
	return true;
}

static void handle_request(struct sim *s, struct vring_chain *ch, uint64_t t0)
{
	struct req_done d;

	if (request_exec(s, ch, t0, &d))
		request_complete(s, &d);
}

/* xorshift64*: the shuffles are the same for the same seed. */
static uint64_t sim_rand(struct sim *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A random permutation of 0..n-1 in @p (Fisher-Yates). */
static void sim_permute(struct sim *s, unsigned int *p, unsigned int n)
{
	unsigned int i, j, t;

	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n; i > 1; i--) {
		j = (unsigned int)(sim_rand(s) % i);
		t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
}

/*
 * order shuffle: take every request of the ring (up to SIM_SCAN_MAX), run
 * them in a random order, then put their replies on the used ring in
 * another (the specification promises the driver no order at all). Returns
 * the number of requests taken, or -1 on a malformed ring (@err says why).
 */
static int reqq_scan_shuffled(struct sim *s, const char **err)
{
	static unsigned int order[SIM_SCAN_MAX];
	static struct req_done done[SIM_SCAN_MAX];
	struct sim_vq *vq = &s->vq[0];
	unsigned int n = 0, nd = 0, i;
	uint64_t t0;
	int r = 0;

	if (!s->scan) {
		s->scan = calloc(SIM_SCAN_MAX, sizeof(*s->scan));
		if (!s->scan)
			sim_fatal("out of memory");
	}
	while (n < SIM_SCAN_MAX && (r = vring_pop(&vq->vr, &s->scan[n], err)) > 0)
		n++;
	if (r < 0)
		return -1;
	t0 = sim_now_ns();
	sim_permute(s, order, n);
	for (i = 0; i < n && !s->m.dead_queue; i++)
		if (request_exec(s, &s->scan[order[i]], t0, &done[nd]))
			nd++;
	sim_permute(s, order, nd);
	for (i = 0; i < nd && vq->running; i++)
		request_complete(s, &done[order[i]]);
	return (int)n;
}

static void handle_event_buf(struct sim *s, struct vring_chain *ch)
{
	struct sim_vq *vq = &s->vq[1];
	uint8_t rd[2] = { 0 };

	vring_read(ch, rd, sizeof(rd));
	sim_log(s, "eventq: buffer %u for gpio %u", ch->head, rd[0] | rd[1] << 8);
	if (ch->wlen < 1) {
		sim_log(s, "eventq: buffer without a writable status byte");
		s->m.st.protocol_errors++;
		vring_push(&vq->vr, ch->head, 0);
		return;
	}
	vq_hold(vq, ch);
	model_event_buffer(&s->m, rd, ch->rlen, ch->wlen, ch->head);
}

static void vq_process(struct sim *s, unsigned int q)
{
	struct sim_vq *vq = &s->vq[q];
	struct vring_chain ch;
	const char *err = NULL;
	uint64_t batch = 0;
	int r = 0;

	if (!vq->running || vq->stalled || (q == 0 && s->m.dead_queue))
		return;
	do {
		while (q == 0 && s->shuffle &&
		       (r = reqq_scan_shuffled(s, &err)) > 0) {
			batch += (uint64_t)r;
			if (!vq->running)
				return;
			if (s->m.dead_queue) {
				vq_notify(s, q);
				return;
			}
		}
		while ((q != 0 || !s->shuffle) &&
		       (r = vring_pop(&vq->vr, &ch, &err)) > 0) {
			batch++;
			if (q == 0)
				handle_request(s, &ch, sim_now_ns());
			else
				handle_event_buf(s, &ch);
			if (!vq->running)
				return;
			if (q == 0 && s->m.dead_queue) {
				vq_notify(s, q);
				return;
			}
		}
		if (r < 0)
			sim_fatal("queue %u: %s", q, err);
	} while (vring_enable_kick(&vq->vr));
	if (q == 0 && batch > s->m.st.batch_max)
		s->m.st.batch_max = batch;
	vq_notify(s, q);
	if (q == 1)
		pthread_cond_broadcast(&s->cond);
}

/* Start the ring when everything it needs is there. */
static void vq_try_start(struct sim *s, unsigned int q)
{
	struct sim_vq *vq = &s->vq[q];
	struct vring *vr = &vq->vr;

	if (vq->running || !vq->addr_set || !vq->started || !vq->enabled ||
	    !s->nreg || !vq->num)
		return;
	vr->num = vq->num;
	vr->desc = xlate_uva(s, vq->desc_uva, vring_desc_size(vq->num));
	vr->avail = xlate_uva(s, vq->avail_uva, vring_avail_size(vq->num));
	vr->used = xlate_uva(s, vq->used_uva, vring_used_size(vq->num));
	if (!vr->desc || !vr->avail || !vr->used)
		sim_fatal("queue %u: ring addresses outside guest memory", q);
	vr->last_avail = vq->base;
	vr->used_idx = vr->used->idx;
	vr->signalled_valid = false;
	vr->event_idx = s->acked_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vr->indirect = s->acked_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	vr->xlate = xlate_gpa;
	vr->xlate_ctx = s;
	if (vq->held_num != vq->num) {
		vq_drop_held(vq);
		free(vq->held);
		vq->held = calloc(vq->num, sizeof(*vq->held));
		if (!vq->held)
			sim_fatal("out of memory");
		vq->held_num = vq->num;
	}
	vq->running = true;
	sim_log(s, "queue %u: running, %u entries, avail from %u, used %u",
		q, vq->num, vr->last_avail, vr->used_idx);
	vq_process(s, q);
}

static void vq_reset(struct sim *s, unsigned int q)
{
	struct sim_vq *vq = &s->vq[q];

	vq_stop(s, q);
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	vq->addr_set = false;
	vq->started = false;
	vq->enabled = false;
	vq->base = 0;
	vq->num = 0;
	memset(&vq->vr, 0, sizeof(vq->vr));
}

void vu_reset(struct sim *s)
{
	unsigned int q;

	pthread_mutex_lock(&s->lock);
	for (q = 0; q < SIM_NQUEUES; q++)
		vq_reset(s, q);
	mem_clear(s);
	s->acked_features = 0;
	s->acked_protocol = 0;
	s->m.irq_negotiated = false;
	/* A new front end gets a new queue worker. */
	s->m.dead_queue = false;
	s->status = 0;
	pthread_mutex_unlock(&s->lock);
}

void vu_stall(struct sim *s, unsigned int q, bool on)
{
	uint64_t next = UINT64_MAX;

	s->vq[q].stalled = on;
	if (on)
		return;
	/* What was answered meanwhile goes first, then the ring. */
	if (vq_flush_due(s, q, sim_now_ns(), &next))
		vq_notify(s, q);
	vq_process(s, q);
	timer_kick(s);
}

int sim_init(struct sim *s)
{
	unsigned int q;

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	for (q = 0; q < SIM_NQUEUES; q++) {
		s->vq[q].kick_fd = -1;
		s->vq[q].call_fd = -1;
		s->vq[q].err_fd = -1;
	}
	if (!s->rng)
		s->rng = SIM_RNG_SEED;
	s->resp_cap = (size_t)s->m.names_len + 2;
	s->resp = calloc(1, s->resp_cap);
	s->m.ops.ctx = s;
	s->m.ops.event_done = ev_done;
	s->m.ops.req_done = req_done;
	s->m.ops.now = now_cb;
	s->timer_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return s->resp && s->timer_fd >= 0 ? 0 : -1;
}

/* ---- messages ---- */

static void close_fds(struct vu_msg *msg)
{
	int i;

	for (i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Returns 1 with a message, 0 on end of connection. */
static int vu_recv(int fd, struct vu_msg *msg)
{
	char cbuf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
	struct iovec iov = { &msg->hdr, sizeof(msg->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	msg->nfds = 0;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			if (k > VHOST_USER_MAX_FDS)
				k = VHOST_USER_MAX_FDS;
			memcpy(msg->fds, CMSG_DATA(c), (size_t)k * sizeof(int));
			msg->nfds = k;
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		sim_fatal("vhost-user message carries too many file descriptors");
	if ((size_t)n < sizeof(msg->hdr) &&
	    read_full(fd, (uint8_t *)&msg->hdr + n, sizeof(msg->hdr) - (size_t)n))
		sim_fatal("vhost-user connection closed inside a message header");
	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		sim_fatal("vhost-user message %u with bad version flags 0x%x",
			  msg->hdr.request, msg->hdr.flags);
	if (msg->hdr.size > sizeof(msg->p))
		sim_fatal("vhost-user message %s (%u) has size %u, larger than any payload (%zu)",
			  vu_name(msg->hdr.request), msg->hdr.request,
			  msg->hdr.size, sizeof(msg->p));
	memset(&msg->p, 0, sizeof(msg->p));
	if (msg->hdr.size && read_full(fd, &msg->p, msg->hdr.size))
		sim_fatal("vhost-user connection closed inside a message payload");
	return 1;
}

static void vu_send(struct sim *s, int fd, uint32_t req, const void *payload,
		    uint32_t size)
{
	struct vu_hdr h = { req, VHOST_USER_VERSION | VHOST_USER_REPLY, size };
	struct iovec iov[2] = {
		{ &h, sizeof(h) }, { (void *)payload, size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(h) + size))
		sim_log(s, "reply to %s failed: %s", vu_name(req),
			n < 0 ? strerror(errno) : "short write");
}

static void vu_reply_u64(struct sim *s, int fd, uint32_t req, uint64_t v)
{
	vu_send(s, fd, req, &v, sizeof(v));
}

/* The payload must be at least @need bytes and not more than @max. */
static void need_size(const struct vu_msg *msg, size_t need, size_t max)
{
	if (msg->hdr.size < need)
		sim_fatal("vhost-user message %s: payload of %u bytes, expected %zu",
			  vu_name(msg->hdr.request), msg->hdr.size, need);
	if (msg->hdr.size > max)
		sim_fatal("vhost-user message %s: payload of %u bytes, more than its type (%zu)",
			  vu_name(msg->hdr.request), msg->hdr.size, max);
}

static unsigned int queue_index(const struct vu_msg *msg, uint64_t idx)
{
	if (idx >= SIM_NQUEUES)
		sim_fatal("vhost-user message %s: queue index %llu out of range (%d queues)",
			  vu_name(msg->hdr.request), (unsigned long long)idx,
			  SIM_NQUEUES);
	return (unsigned int)idx;
}

/* SET_VRING_KICK/CALL/ERR: returns the queue; *fd gets the new fd or -1. */
static unsigned int vring_fd(struct vu_msg *msg, int *fd)
{
	unsigned int q;

	need_size(msg, 8, 8);
	if (msg->p.u64 & ~(VHOST_USER_VRING_IDX | VHOST_USER_VRING_NOFD))
		sim_fatal("vhost-user message %s: bad value 0x%llx",
			  vu_name(msg->hdr.request),
			  (unsigned long long)msg->p.u64);
	q = queue_index(msg, msg->p.u64 & VHOST_USER_VRING_IDX);
	*fd = -1;
	if (msg->p.u64 & VHOST_USER_VRING_NOFD)
		return q;
	if (msg->nfds != 1)
		sim_fatal("vhost-user message %s: expected one fd, got %d",
			  vu_name(msg->hdr.request), msg->nfds);
	*fd = msg->fds[0];
	msg->nfds = 0;
	return q;
}

/* New memory map: held chains point into the old one. */
static void vq_remap_held(struct sim *s, struct sim_vq *vq)
{
	unsigned int i, k;

	for (i = 0; i < vq->held_num; i++) {
		struct vring_chain *c = vq->held[i];

		if (!c)
			continue;
		for (k = 0; k < c->nr; k++)
			if (c->r[k].len)
				c->r[k].p = xlate_gpa(s, c->r[k].gpa, c->r[k].len);
		for (k = 0; k < c->nw; k++) {
			if (!c->w[k].len)
				continue;
			c->w[k].p = xlate_gpa(s, c->w[k].gpa, c->w[k].len);
			if (!c->w[k].p)
				sim_fatal("a held buffer is outside the new memory table");
		}
	}
}

static void set_mem_table(struct sim *s, struct vu_msg *msg)
{
	unsigned int i, q;

	need_size(msg, 8, sizeof(struct vu_mem));
	if (msg->p.mem.nregions > SIM_MAX_REGIONS ||
	    msg->hdr.size < 8 + msg->p.mem.nregions * sizeof(struct vu_region))
		sim_fatal("SET_MEM_TABLE: %u regions in %u bytes",
			  msg->p.mem.nregions, msg->hdr.size);
	if ((unsigned int)msg->nfds != msg->p.mem.nregions)
		sim_fatal("SET_MEM_TABLE: %u regions but %d fds",
			  msg->p.mem.nregions, msg->nfds);
	for (q = 0; q < SIM_NQUEUES; q++) {
		if (s->vq[q].running)
			s->vq[q].base = s->vq[q].vr.last_avail;
		s->vq[q].running = false;
	}
	mem_clear(s);
	for (i = 0; i < msg->p.mem.nregions; i++)
		region_map(s, &s->reg[i], &msg->p.mem.r[i], msg->fds[i]);
	s->nreg = msg->p.mem.nregions;
	close_fds(msg);
	for (q = 0; q < SIM_NQUEUES; q++)
		vq_remap_held(s, &s->vq[q]);
	/* Rings that ran keep their state: translate them again. */
	for (q = 0; q < SIM_NQUEUES; q++)
		vq_try_start(s, q);
}

static void add_mem_reg(struct sim *s, struct vu_msg *msg)
{
	need_size(msg, sizeof(msg->p.one), sizeof(msg->p.one));
	if (msg->nfds != 1)
		sim_fatal("ADD_MEM_REG: expected one fd, got %d", msg->nfds);
	if (s->nreg >= SIM_MAX_REGIONS)
		sim_fatal("ADD_MEM_REG: more than %d regions", SIM_MAX_REGIONS);
	region_map(s, &s->reg[s->nreg], &msg->p.one.r, msg->fds[0]);
	s->nreg++;
	close_fds(msg);
}

static void rem_mem_reg(struct sim *s, struct vu_msg *msg)
{
	unsigned int i;

	need_size(msg, sizeof(msg->p.one), sizeof(msg->p.one));
	close_fds(msg);
	for (i = 0; i < s->nreg; i++) {
		if (s->reg[i].gpa == msg->p.one.r.gpa &&
		    s->reg[i].size == msg->p.one.r.size) {
			region_unmap(&s->reg[i]);
			s->reg[i] = s->reg[--s->nreg];
			memset(&s->reg[s->nreg], 0, sizeof(s->reg[0]));
			return;
		}
	}
	sim_log(s, "REM_MEM_REG: no such region");
}

static void get_config(struct sim *s, int fd, struct vu_msg *msg)
{
	struct vu_config *c = &msg->p.config;
	uint8_t cfg[8];

	need_size(msg, VHOST_USER_CONFIG_HDR, sizeof(*c));
	if (c->size > VHOST_USER_CONFIG_MAX ||
	    msg->hdr.size != VHOST_USER_CONFIG_HDR + c->size)
		sim_fatal("GET_CONFIG: size %u in a payload of %u bytes",
			  c->size, msg->hdr.size);
	model_config(&s->m, cfg);
	memset(c->data, 0, c->size);
	if (c->offset > sizeof(cfg) || c->size > sizeof(cfg) - c->offset) {
		sim_log(s, "GET_CONFIG: offset %u size %u beyond the config space",
			c->offset, c->size);
		c->size = 0;
	} else {
		memcpy(c->data, cfg + c->offset, c->size);
	}
	vu_send(s, fd, VHOST_USER_GET_CONFIG, c, VHOST_USER_CONFIG_HDR + c->size);
}

/*
 * Handle one message (lock held). Returns true when the message already
 * answered, so need_reply must not add an ack.
 */
static bool vu_handle(struct sim *s, int fd, struct vu_msg *msg, uint64_t *ack)
{
	struct sim_vq *vq;
	unsigned int q;
	int nfd;

	switch (msg->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		vu_reply_u64(s, fd, msg->hdr.request, s->features);
		return true;
	case VHOST_USER_SET_FEATURES:
		need_size(msg, 8, 8);
		if (msg->p.u64 & ~s->features)
			sim_log(s, "SET_FEATURES 0x%llx has bits not offered",
				(unsigned long long)msg->p.u64);
		s->acked_features = msg->p.u64 & s->features;
		s->m.irq_negotiated = s->acked_features & (1ULL << VIRTIO_GPIO_F_IRQ);
		sim_log(s, "  features 0x%llx", (unsigned long long)s->acked_features);
		for (q = 0; q < SIM_NQUEUES; q++) {
			s->vq[q].vr.event_idx = s->acked_features &
				(1ULL << VIRTIO_RING_F_EVENT_IDX);
			s->vq[q].vr.indirect = s->acked_features &
				(1ULL << VIRTIO_RING_F_INDIRECT_DESC);
		}
		return false;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		vu_reply_u64(s, fd, msg->hdr.request, s->protocol_features);
		return true;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		need_size(msg, 8, 8);
		s->acked_protocol = msg->p.u64 & s->protocol_features;
		return false;
	case VHOST_USER_GET_QUEUE_NUM:
		vu_reply_u64(s, fd, msg->hdr.request, SIM_NQUEUES);
		return true;
	case VHOST_USER_SET_OWNER:
		return false;
	case VHOST_USER_RESET_OWNER:
		for (q = 0; q < SIM_NQUEUES; q++)
			vq_reset(s, q);
		s->acked_features = 0;
		s->m.irq_negotiated = false;
		return false;
	case VHOST_USER_SET_MEM_TABLE:
		set_mem_table(s, msg);
		return false;
	case VHOST_USER_ADD_MEM_REG:
		add_mem_reg(s, msg);
		return false;
	case VHOST_USER_REM_MEM_REG:
		rem_mem_reg(s, msg);
		return false;
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		vu_reply_u64(s, fd, msg->hdr.request, SIM_MAX_REGIONS);
		return true;
	case VHOST_USER_SET_VRING_NUM:
		need_size(msg, 8, 8);
		q = queue_index(msg, msg->p.state.index);
		if (!msg->p.state.num || msg->p.state.num > VRING_MAX_NUM ||
		    (msg->p.state.num & (msg->p.state.num - 1)))
			sim_fatal("SET_VRING_NUM: bad ring size %u", msg->p.state.num);
		s->vq[q].running = false;
		s->vq[q].num = msg->p.state.num;
		sim_log(s, "  queue %u num %u", q, msg->p.state.num);
		return false;
	case VHOST_USER_SET_VRING_ADDR:
		need_size(msg, sizeof(struct vu_addr), sizeof(struct vu_addr));
		q = queue_index(msg, msg->p.addr.index);
		vq = &s->vq[q];
		if (vq->running)
			vq->base = vq->vr.last_avail;
		vq->running = false;
		vq->desc_uva = msg->p.addr.desc;
		vq->avail_uva = msg->p.addr.avail;
		vq->used_uva = msg->p.addr.used;
		vq->addr_set = true;
		vq_try_start(s, q);
		return false;
	case VHOST_USER_SET_VRING_BASE:
		need_size(msg, 8, 8);
		q = queue_index(msg, msg->p.state.index);
		if (msg->p.state.num > 0xffff)
			sim_fatal("SET_VRING_BASE: index %u beyond 16 bits",
				  msg->p.state.num);
		s->vq[q].base = (uint16_t)msg->p.state.num;
		s->vq[q].vr.last_avail = s->vq[q].base;
		sim_log(s, "  queue %u base %u", q, msg->p.state.num);
		return false;
	case VHOST_USER_GET_VRING_BASE: {
		struct vu_state st;

		need_size(msg, 8, 8);
		q = queue_index(msg, msg->p.state.index);
		vq = &s->vq[q];
		st.index = q;
		st.num = vq->running ? vq->vr.last_avail : vq->base;
		vq_stop(s, q);
		/*
		 * QEMU reports a device reset (and its own stop) only as the
		 * rings being stopped. --reset-mode forget: the request queue
		 * stopping resets the lines, as a reset device must; keep (the
		 * default): they stay as they are, as in real back ends.
		 */
		if (q == 0 && !s->m.reset_keep)
			model_device_reset(&s->m);
		vq->base = (uint16_t)st.num;
		vq->started = false;
		close_fd(&vq->kick_fd);
		sim_log(s, "  queue %u stopped at %u", q, st.num);
		vu_send(s, fd, msg->hdr.request, &st, sizeof(st));
		return true;
	}
	case VHOST_USER_SET_VRING_KICK:
		q = vring_fd(msg, &nfd);
		vq = &s->vq[q];
		close_fd(&vq->kick_fd);
		vq->kick_fd = nfd;
		vq->started = true;
		if (!(s->acked_features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)))
			vq->enabled = true;
		vq_try_start(s, q);
		return false;
	case VHOST_USER_SET_VRING_CALL:
		q = vring_fd(msg, &nfd);
		close_fd(&s->vq[q].call_fd);
		s->vq[q].call_fd = nfd;
		/* A new call fd may have missed a signal: send one. */
		s->vq[q].vr.signalled_valid = false;
		return false;
	case VHOST_USER_SET_VRING_ERR:
		q = vring_fd(msg, &nfd);
		close_fd(&s->vq[q].err_fd);
		s->vq[q].err_fd = nfd;
		return false;
	case VHOST_USER_SET_VRING_ENABLE:
		need_size(msg, 8, 8);
		q = queue_index(msg, msg->p.state.index);
		vq = &s->vq[q];
		sim_log(s, "  queue %u enable %u", q, msg->p.state.num);
		if (msg->p.state.num) {
			vq->enabled = true;
			vq_try_start(s, q);
			/* A kick may have come before the enable. */
			vq_process(s, q);
		} else {
			if (vq->running)
				vq->base = vq->vr.last_avail;
			vq->enabled = false;
			vq->running = false;
		}
		return false;
	case VHOST_USER_GET_CONFIG:
		get_config(s, fd, msg);
		return true;
	case VHOST_USER_SET_CONFIG:
		need_size(msg, VHOST_USER_CONFIG_HDR, sizeof(struct vu_config));
		sim_log(s, "SET_CONFIG ignored: the GPIO config space is read-only");
		return false;
	case VHOST_USER_SET_STATUS:
		need_size(msg, 8, 8);
		s->status = (uint8_t)msg->p.u64;
		return false;
	case VHOST_USER_GET_STATUS:
		vu_reply_u64(s, fd, msg->hdr.request, s->status);
		return true;
	default:
		fprintf(stderr, "vgpio-sim: unsupported vhost-user message %u%s\n",
			msg->hdr.request,
			msg->hdr.flags & VHOST_USER_NEED_REPLY ?
			", answered with failure" : ", ignored");
		*ack = 1;
		return false;
	}
}

static void kick(struct sim *s, unsigned int q)
{
	uint64_t v;

	if (read(s->vq[q].kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		sim_log(s, "queue %u: kick read: %s", q, strerror(errno));
	s->m.st.kicks++;
	vq_process(s, q);
}

int vu_serve(struct sim *s, int fd)
{
	struct vu_msg msg;

	for (;;) {
		struct pollfd pfd[3 + SIM_NQUEUES];
		unsigned int q, map[SIM_NQUEUES];
		int n = 3, i, k = 0;
		struct timespec ts;
		int64_t timeout;

		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = s->wake_fd[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = s->timer_fd;
		pfd[2].events = POLLIN;
		pthread_mutex_lock(&s->lock);
		timeout = vu_timers(s);
		for (q = 0; q < SIM_NQUEUES; q++) {
			if (s->vq[q].kick_fd < 0)
				continue;
			pfd[n].fd = s->vq[q].kick_fd;
			pfd[n].events = POLLIN;
			map[k++] = q;
			n++;
		}
		pthread_mutex_unlock(&s->lock);
		ts.tv_sec = timeout / 1000000000;
		ts.tv_nsec = timeout % 1000000000;
		if (ppoll(pfd, (nfds_t)n, timeout < 0 ? NULL : &ts, NULL) < 0) {
			if (errno == EINTR)
				continue;
			sim_fatal("poll: %s", strerror(errno));
		}
		if (pfd[1].revents)
			return 1;
		if (pfd[2].revents) {
			uint64_t v;

			if (read(s->timer_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				sim_log(s, "timer eventfd read: %s", strerror(errno));
		}
		pthread_mutex_lock(&s->lock);
		for (i = 3; i < n; i++)
			if (pfd[i].revents && s->vq[map[i - 3]].kick_fd == pfd[i].fd)
				kick(s, map[i - 3]);
		pthread_mutex_unlock(&s->lock);
		if (pfd[0].revents) {
			uint64_t ack = 0;
			bool replied;

			if (!vu_recv(fd, &msg))
				return 0;
			sim_log(s, "vhost-user: %s (%u) flags 0x%x size %u fds %d",
				vu_name(msg.hdr.request), msg.hdr.request,
				msg.hdr.flags, msg.hdr.size, msg.nfds);
			pthread_mutex_lock(&s->lock);
			replied = vu_handle(s, fd, &msg, &ack);
			pthread_mutex_unlock(&s->lock);
			close_fds(&msg);
			if (!replied && (msg.hdr.flags & VHOST_USER_NEED_REPLY))
				vu_reply_u64(s, fd, msg.hdr.request, ack);
		}
	}
}
