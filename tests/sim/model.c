// SPDX-License-Identifier: GPL-2.0
/*
 * The GPIO model: requests and the event queue state machine of the virtio
 * GPIO device (virtio spec, "GPIO Device"), without any I/O. Faults from
 * the fault table and the fuzzer (faults.c) are applied here where they
 * change what the device answers; the transport applies the rest (when and
 * how a buffer goes back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint8_t *model_default_names(uint32_t nlines, uint32_t *len)
{
	size_t cap = (size_t)nlines * 12 + 1, off = 0;
	uint8_t *b = malloc(cap);
	uint32_t i;

	if (!b)
		return NULL;
	for (i = 0; i < nlines; i++)
		off += (size_t)snprintf((char *)b + off, cap - off, "GPIO%u", i) + 1;
	*len = (uint32_t)off;
	return b;
}

/* Split the names block into printable per-line names. */
static int model_parse_names(struct model *m)
{
	uint32_t line = 0, off = 0;

	m->name_of = calloc(m->nlines, sizeof(*m->name_of));
	if (!m->name_of)
		return -1;
	while (off < m->names_len && line < m->nlines) {
		uint32_t end = off, i;
		char *s;

		while (end < m->names_len && m->names[end])
			end++;
		if (end > off) {
			s = malloc(end - off + 1);
			if (!s)
				return -1;
			for (i = off; i < end; i++) {
				uint8_t c = m->names[i];

				s[i - off] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
			}
			s[end - off] = 0;
			m->name_of[line] = s;
		}
		line++;
		off = end + 1;
	}
	return 0;
}

int model_init(struct model *m, uint32_t nlines, const uint8_t *names,
	       uint32_t names_len, uint32_t names_size)
{
	memset(m, 0, sizeof(*m));
	m->nlines = nlines;
	m->lines = calloc(nlines ? nlines : 1, sizeof(*m->lines));
	if (!m->lines)
		return -1;
	if (names_len) {
		m->names = malloc(names_len);
		if (!m->names)
			return -1;
		memcpy(m->names, names, names_len);
	}
	m->names_len = names_len;
	m->names_size = names_size;
	m->offer_irq = true;
	m->reset_keep = true;
	return model_parse_names(m);
}

void model_free(struct model *m)
{
	uint32_t i;

	if (m->name_of)
		for (i = 0; i < m->nlines; i++)
			free(m->name_of[i]);
	if (m->lines)
		for (i = 0; i < m->nlines; i++)
			free(m->lines[i].et);
	free(m->name_of);
	free(m->lines);
	free(m->names);
	free(m->held);
	memset(m, 0, sizeof(*m));
}

void model_config(const struct model *m, uint8_t cfg[8])
{
	cfg[0] = m->nlines & 0xff;
	cfg[1] = (m->nlines >> 8) & 0xff;
	cfg[2] = 0;
	cfg[3] = 0;
	cfg[4] = m->names_size & 0xff;
	cfg[5] = (m->names_size >> 8) & 0xff;
	cfg[6] = (m->names_size >> 16) & 0xff;
	cfg[7] = (m->names_size >> 24) & 0xff;
}

const char *model_dir_name(uint8_t dir)
{
	switch (dir) {
	case VGPIO_DIR_OUT:
		return "out";
	case VGPIO_DIR_IN:
		return "in";
	default:
		return "none";
	}
}

const char *model_irq_name(uint8_t type)
{
	switch (type) {
	case VGPIO_IRQ_EDGE_RISING:
		return "rising";
	case VGPIO_IRQ_EDGE_FALLING:
		return "falling";
	case VGPIO_IRQ_EDGE_BOTH:
		return "both";
	case VGPIO_IRQ_LEVEL_HIGH:
		return "high";
	case VGPIO_IRQ_LEVEL_LOW:
		return "low";
	default:
		return "none";
	}
}

static bool irq_is_edge(uint8_t t)
{
	return t == VGPIO_IRQ_EDGE_RISING || t == VGPIO_IRQ_EDGE_FALLING ||
	       t == VGPIO_IRQ_EDGE_BOTH;
}

static bool irq_is_level(uint8_t t)
{
	return t == VGPIO_IRQ_LEVEL_HIGH || t == VGPIO_IRQ_LEVEL_LOW;
}

static bool level_active(uint8_t t, int level)
{
	return (t == VGPIO_IRQ_LEVEL_HIGH && level) ||
	       (t == VGPIO_IRQ_LEVEL_LOW && !level);
}

bool model_edge_makes_event(uint8_t type, int from, int to)
{
	if (from == to)
		return false;
	if (irq_is_level(type))
		return level_active(type, to);
	if (to)
		return type & VGPIO_IRQ_EDGE_RISING;
	return type & VGPIO_IRQ_EDGE_FALLING;
}

static bool fifo_mode(const struct model *m)
{
	return m->behaviour == MODEL_BEHAVIOUR_FIFO;
}

unsigned int model_line_kept(const struct model *m, uint32_t line)
{
	const struct line *l = &m->lines[line];

	return fifo_mode(m) ? l->fifo_n : l->pending;
}

bool model_line_ready(const struct model *m, uint32_t line)
{
	return line < m->nlines && m->lines[line].held &&
	       !m->lines[line].orphan && !model_line_kept(m, line);
}

/* Queue an edge at time @t in the line's FIFO; the oldest goes when full. */
static int fifo_push(struct model *m, struct line *l, uint64_t t)
{
	int r = MODEL_EDGE_LATCHED;

	if (l->fifo_n == MODEL_FIFO_DEPTH) {
		l->fifo_head = (l->fifo_head + 1) % MODEL_FIFO_DEPTH;
		l->fifo_n--;
		m->st.collapsed++;
		l->st.collapsed++;
		r = MODEL_EDGE_COLLAPSED;
	} else {
		l->st.latched++;
	}
	l->fifo_t[(l->fifo_head + l->fifo_n) % MODEL_FIFO_DEPTH] = t;
	l->fifo_n++;
	return r;
}

/* The time of the oldest queued edge, taken off the FIFO. */
static uint64_t fifo_pop(struct line *l)
{
	uint64_t t = l->fifo_t[l->fifo_head];

	l->fifo_head = (l->fifo_head + 1) % MODEL_FIFO_DEPTH;
	l->fifo_n--;
	return t;
}

/* Forget the edges a line keeps (type NONE, resets, a behaviour switch). */
static void line_forget_edges(struct line *l)
{
	l->pending = false;
	l->fifo_n = 0;
	l->fifo_head = 0;
}

static uint64_t model_now(const struct model *m)
{
	return m->ops.now ? m->ops.now(m->ops.ctx) : 0;
}

/*
 * The fault for this message at @point: the first of the table, else the
 * fuzzer's choice @fz (consumed). Return: 0 none, 1 table, 2 fuzzer.
 */
static int model_fault(struct model *m, enum fault_point point, int msg,
		       uint32_t line, struct fault_act *fz,
		       struct fault_act *out)
{
	if (fault_take(&m->faults, point, msg, line, out)) {
		m->st.faults++;
		return 1;
	}
	if (fz && fz->kind != FAULT_NONE &&
	    fault_kind_applies(fz->kind, point, msg)) {
		*out = *fz;
		fz->kind = FAULT_NONE;
		m->st.faults++;
		m->fz.faults++;
		m->fz.per_kind[out->kind]++;
		return 2;
	}
	out->kind = FAULT_NONE;
	out->arg = 0;
	return 0;
}

/* The fuzzer's choice for the next message of class @msg. */
static struct fault_act fuzz_next(struct model *m, int msg)
{
	struct fault_act a = { FAULT_NONE, 0 };
	uint64_t k;

	if (!m->fz.on)
		return a;
	k = msg == FMSG_EVENT ? m->fz.nev++ : m->fz.nreq++;
	return fuzz_decide(m->fz.seed, m->fz.rate, k, msg);
}

static void et_record(struct line *l, uint64_t t)
{
	if (!l->et) {
		l->et = malloc(MODEL_EDGETIMES * sizeof(*l->et));
		if (!l->et)
			return;
	}
	l->et[l->et_n % MODEL_EDGETIMES] = t;
	l->et_n++;
}

uint32_t model_edgetimes(const struct model *m, uint32_t line, uint64_t *out,
			 uint32_t max)
{
	const struct line *l = &m->lines[line];
	uint64_t n = l->et_n < MODEL_EDGETIMES ? l->et_n : MODEL_EDGETIMES;
	uint64_t i, first;

	if (n > max)
		n = max;
	first = l->et_n - n;
	for (i = 0; i < n; i++)
		out[i] = l->et[(first + i) % MODEL_EDGETIMES];
	return (uint32_t)n;
}

/*
 * An event buffer goes back to the driver with @status; @t is the time of
 * the edge behind a VALID event. @gpio may be out of range (a bad buffer).
 */
static void ev_complete(struct model *m, uint32_t gpio, uint32_t token,
			uint8_t status, struct fault_act *fz, uint64_t t)
{
	struct line *l = gpio < m->nlines ? &m->lines[gpio] : NULL;
	struct fault_act act;
	uint8_t byte = status;

	if (status == VGPIO_EVENT_VALID) {
		m->st.events++;
		if (l) {
			l->st.events++;
			et_record(l, t);
		}
	} else {
		m->st.invalid++;
		if (l)
			l->st.invalid++;
	}
	if (model_fault(m, FP_REPLY, FMSG_EVENT, gpio, fz, &act) &&
	    act.kind == FAULT_EVSTATUS)
		byte = (uint8_t)act.arg;
	if (m->ops.event_done)
		m->ops.event_done(m->ops.ctx, token, byte, &act);
}

/* Give the held event buffer of @line back with @status. */
static void line_return_buffer(struct model *m, uint32_t line, uint8_t status,
			       uint64_t t)
{
	struct line *l = &m->lines[line];

	if (!l->held)
		return;
	l->held = false;
	ev_complete(m, line, l->held_token, status, &l->fz, t);
}

/* Another line than @line that holds a buffer, or m->nlines. */
static uint32_t other_held_line(const struct model *m, uint32_t line)
{
	uint32_t i, o;

	for (i = 1; i < m->nlines; i++) {
		o = (line + i) % m->nlines;
		if (m->lines[o].held)
			return o;
	}
	return m->nlines;
}

/* @line, holding a buffer, has an event from an edge at time @t. */
static void line_fire(struct model *m, uint32_t line, uint64_t t)
{
	struct line *l = &m->lines[line];
	uint32_t other = other_held_line(m, line);
	struct fault_act act;

	if (other < m->nlines &&
	    model_fault(m, FP_EVENT, FMSG_EVENT, line, &l->fz, &act)) {
		/* wrong-line: another line's buffer carries the event. */
		line_return_buffer(m, other, VGPIO_EVENT_VALID, t);
		return;
	}
	line_return_buffer(m, line, VGPIO_EVENT_VALID, t);
}

static int line_level_changed(struct model *m, uint32_t line, int from,
			      int to, uint64_t t)
{
	struct line *l = &m->lines[line];

	if (l->orphan && from != to &&
	    model_edge_makes_event(l->orphan_type, from, to)) {
		/*
		 * fifo: the buffer held across type NONE goes back at the next
		 * edge of the type it was armed for, INVALID (the reference
		 * back end's waiting thread finds the line disabled only when
		 * an edge wakes it).
		 */
		l->orphan = false;
		line_return_buffer(m, line, VGPIO_EVENT_INVALID, 0);
		return MODEL_EDGE_NONE;
	}
	if (from == to || l->irq_type == VGPIO_IRQ_NONE)
		return MODEL_EDGE_NONE;
	if (irq_is_edge(l->irq_type)) {
		if (!model_edge_makes_event(l->irq_type, from, to))
			return MODEL_EDGE_NONE;
		l->st.edges++;
		if (l->held) {
			line_fire(m, line, t);
			return MODEL_EDGE_SENT;
		}
		if (fifo_mode(m))
			return fifo_push(m, l, t);
		if (l->pending) {
			m->st.collapsed++;
			l->st.collapsed++;
			return MODEL_EDGE_COLLAPSED;
		}
		l->pending = true;
		l->pend_t = t;
		l->st.latched++;
		return MODEL_EDGE_LATCHED;
	}
	if (!level_active(l->irq_type, to))
		return MODEL_EDGE_NONE;
	l->st.edges++;
	if (!l->held)
		return MODEL_EDGE_LOST;
	line_fire(m, line, t);
	return MODEL_EDGE_SENT;
}

int model_set_level(struct model *m, uint32_t line, int level)
{
	struct line *l;
	uint64_t t;
	int old;

	if (line >= m->nlines)
		return -1;
	l = &m->lines[line];
	old = l->level;
	l->level = level ? 1 : 0;
	if (old == l->level)
		return MODEL_EDGE_NONE;
	t = model_now(m);
	l->level_t = t;
	return line_level_changed(m, line, old, l->level, t);
}

/* Output of @a changed or became effective: drive the looped inputs. */
static void loops_drive(struct model *m, uint32_t a)
{
	unsigned int i;

	if (m->lines[a].dir != VGPIO_DIR_OUT)
		return;
	for (i = 0; i < m->nloops; i++)
		if (m->loops[i].a == a)
			model_set_level(m, m->loops[i].b, m->lines[a].value);
}

int model_loop_add(struct model *m, uint32_t a, uint32_t b)
{
	unsigned int i;

	if (a >= m->nlines || b >= m->nlines)
		return -1;
	for (i = 0; i < m->nloops; i++)
		if (m->loops[i].a == a && m->loops[i].b == b)
			return 0;
	if (m->nloops >= MODEL_MAX_LOOPS)
		return -1;
	m->loops[m->nloops].a = (uint16_t)a;
	m->loops[m->nloops].b = (uint16_t)b;
	m->nloops++;
	loops_drive(m, a);
	return 0;
}

int model_loop_del(struct model *m, uint32_t a, uint32_t b)
{
	unsigned int i;

	for (i = 0; i < m->nloops; i++) {
		if (m->loops[i].a == a && m->loops[i].b == b) {
			m->loops[i] = m->loops[--m->nloops];
			return 0;
		}
	}
	return -1;
}

int model_set_fail(struct model *m, uint32_t line, bool on)
{
	if (line >= m->nlines)
		return -1;
	m->lines[line].fail = on;
	return 0;
}

int model_set_refuse(struct model *m, uint32_t line, uint16_t mask)
{
	if (line >= m->nlines)
		return -1;
	m->lines[line].refuse = mask & (uint16_t)~1U;
	return 0;
}

void model_reset_stats(struct model *m)
{
	uint32_t i;

	memset(&m->st, 0, sizeof(m->st));
	for (i = 0; i < m->nlines; i++) {
		memset(&m->lines[i].st, 0, sizeof(m->lines[i].st));
		m->lines[i].et_n = 0;
	}
}

/*
 * Type NONE: latched edges discarded, held buffer back INVALID; with the
 * fifo behaviour and @by_type (SET_IRQ_TYPE NONE, not SET_DIRECTION NONE),
 * a buffer held for an edge type stays held until the line's next edge of
 * that type.
 */
static void set_irq_none(struct model *m, uint32_t line, bool by_type)
{
	struct line *l = &m->lines[line];

	line_forget_edges(l);
	l->stale = false;
	l->storm_left = 0;
	if (by_type && fifo_mode(m) && l->held &&
	    (l->orphan || irq_is_edge(l->irq_type))) {
		if (!l->orphan)
			l->orphan_type = l->irq_type;
		l->orphan = true;
		l->irq_type = VGPIO_IRQ_NONE;
		return;
	}
	l->irq_type = VGPIO_IRQ_NONE;
	l->orphan = false;
	line_return_buffer(m, line, VGPIO_EVENT_INVALID, 0);
}

void model_set_behaviour(struct model *m, enum model_behaviour b)
{
	uint32_t i;

	if (m->behaviour == b)
		return;
	m->behaviour = b;
	for (i = 0; i < m->nlines; i++) {
		struct line *l = &m->lines[i];

		line_forget_edges(l);
		if (l->orphan) {
			l->orphan = false;
			line_return_buffer(m, i, VGPIO_EVENT_INVALID, 0);
		}
	}
}

static bool rust_vmm(const struct model *m)
{
	return m->rules == MODEL_RULES_RUST_VMM;
}

static uint8_t set_irq_type(struct model *m, uint32_t gpio, uint32_t value)
{
	struct line *l = &m->lines[gpio];
	bool rust = rust_vmm(m);

	if (!m->irq_negotiated)
		return VGPIO_STATUS_ERR;
	if (value != VGPIO_IRQ_NONE && value < 16 && (l->refuse & (1U << value)))
		return VGPIO_STATUS_ERR;
	if (rust) {
		/* vhost-device-gpio: no change is an error, so are levels. */
		if ((value & ~0x0fU) || value == l->irq_type)
			return VGPIO_STATUS_ERR;
		if (l->irq_type != VGPIO_IRQ_NONE && value != VGPIO_IRQ_NONE)
			return VGPIO_STATUS_ERR;
	}
	if (value == VGPIO_IRQ_NONE) {
		set_irq_none(m, gpio, true);
		return VGPIO_STATUS_OK;
	}
	if (!irq_is_edge((uint8_t)value) && !irq_is_level((uint8_t)value))
		return VGPIO_STATUS_ERR;
	if (value > 0xff || l->dir == VGPIO_DIR_OUT)
		return VGPIO_STATUS_ERR;
	if (rust && l->dir != VGPIO_DIR_IN)
		return VGPIO_STATUS_ERR;
	if (irq_is_level((uint8_t)value) && (m->reject_level || rust))
		return VGPIO_STATUS_ERR;
	if (l->irq_type != VGPIO_IRQ_NONE && l->irq_type != value)
		return VGPIO_STATUS_ERR;
	l->irq_type = (uint8_t)value;
	/* fifo: a buffer held across NONE serves the new type. */
	l->orphan = false;
	return VGPIO_STATUS_OK;
}

/* Execute one request whose layout is fine; returns the status. */
static uint8_t do_request(struct model *m, uint16_t type, uint16_t gpio,
			  uint32_t value, uint8_t *rvalue)
{
	struct line *l;

	*rvalue = 0;
	if (gpio >= m->nlines)
		return VGPIO_STATUS_ERR;
	l = &m->lines[gpio];
	if (l->fail)
		return VGPIO_STATUS_ERR;

	switch (type) {
	case VGPIO_REQ_GET_DIRECTION:
		*rvalue = l->dir;
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_SET_DIRECTION:
		if (value == VGPIO_DIR_NONE) {
			l->dir = VGPIO_DIR_NONE;
			l->value = 0;
			l->value_set = false;
			set_irq_none(m, gpio, false);
			return VGPIO_STATUS_OK;
		}
		if (value != VGPIO_DIR_OUT && value != VGPIO_DIR_IN)
			return VGPIO_STATUS_ERR;
		/* vhost-device-gpio needs a value before an output. */
		if (rust_vmm(m) && value == VGPIO_DIR_OUT && !l->value_set)
			return VGPIO_STATUS_ERR;
		l->dir = (uint8_t)value;
		loops_drive(m, gpio);
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_GET_VALUE:
		if (l->dir == VGPIO_DIR_NONE)
			return VGPIO_STATUS_ERR;
		if (m->mock_values && !l->value_set)
			return VGPIO_STATUS_ERR;
		*rvalue = l->dir == VGPIO_DIR_OUT ? l->value : l->level;
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_SET_VALUE:
		if (value > 1)
			return VGPIO_STATUS_ERR;
		l->value = (uint8_t)value;
		l->value_set = true;
		loops_drive(m, gpio);
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_SET_IRQ_TYPE:
		return set_irq_type(m, gpio, value);
	default:
		return VGPIO_STATUS_ERR;
	}
}

static int names_request(struct model *m, uint16_t gpio, uint32_t value,
			 uint8_t *resp, size_t cap)
{
	size_t n = cap - 1;
	bool ok = gpio == 0 && value == 0 && m->names_size != 0 &&
		  m->names_size == m->names_len &&
		  cap >= (size_t)m->names_size + 1;

	if (n > m->names_len)
		n = m->names_len;
	if (m->names_size == 0)
		n = 0;
	if (n)
		memcpy(resp + 1, m->names, n);
	resp[0] = ok ? VGPIO_STATUS_OK : VGPIO_STATUS_ERR;
	if (!ok)
		m->st.errors++;
	return (int)(n + 1);
}

static int exec_request(struct model *m, const uint8_t *rd, uint8_t *resp,
			size_t cap)
{
	uint16_t type = get_le16(rd), gpio = get_le16(rd + 2);
	uint32_t value = get_le32(rd + 4);
	uint8_t status, rvalue;

	if (type == VGPIO_REQ_GET_LINE_NAMES)
		return names_request(m, gpio, value, resp, cap);

	if (gpio < m->nlines)
		m->lines[gpio].st.requests++;
	if (cap < 2) {
		status = VGPIO_STATUS_ERR;
		rvalue = 0;
	} else {
		status = do_request(m, type, gpio, value, &rvalue);
	}
	if (status != VGPIO_STATUS_OK) {
		m->st.errors++;
		if (gpio < m->nlines)
			m->lines[gpio].st.errors++;
	}
	resp[0] = status;
	if (cap < 2)
		return 1;
	resp[1] = rvalue;
	return 2;
}

/* A request the device cannot parse: ERR in what fits. */
static int bad_request(struct model *m, uint8_t *resp, size_t cap)
{
	m->st.errors++;
	m->st.protocol_errors++;
	resp[0] = VGPIO_STATUS_ERR;
	if (cap < 2)
		return 1;
	resp[1] = 0;
	return 2;
}

/* Hold the request for "hang"; false when out of memory. */
static bool hold_request(struct model *m, const uint8_t *rd, size_t cap,
			 uint32_t token)
{
	struct held_req *h;

	if (m->nheld == m->held_cap) {
		size_t nc = m->held_cap ? m->held_cap * 2 : 16;
		struct held_req *p = realloc(m->held, nc * sizeof(*p));

		if (!p)
			return false;
		m->held = p;
		m->held_cap = nc;
	}
	h = &m->held[m->nheld++];
	h->token = token;
	memcpy(h->req, rd, 8);
	h->resp_cap = cap;
	return true;
}

int model_request(struct model *m, const uint8_t *rd, size_t rdlen,
		  uint8_t *resp, size_t cap, uint32_t token,
		  struct fault_act *act)
{
	uint16_t type = rdlen >= 8 ? get_le16(rd) : 0;
	uint16_t gpio = rdlen >= 8 ? get_le16(rd + 2) : 0;
	int msg = fault_msg_of_type(type);
	struct fault_act fz = fuzz_next(m, msg), a;
	int n;

	m->st.requests++;
	if (cap == 0) {
		m->st.errors++;
		m->st.protocol_errors++;
		n = 0;
	} else if (rdlen < 8) {
		n = bad_request(m, resp, cap);
	} else if (rust_vmm(m) &&
		   (rdlen != 8 || cap != (type == VGPIO_REQ_GET_LINE_NAMES ?
					  (size_t)m->names_size + 1 : 2))) {
		/* vhost-device-gpio takes exactly sized buffers only. */
		n = bad_request(m, resp, cap);
	} else if (rust_vmm(m) && type != VGPIO_REQ_GET_LINE_NAMES &&
		   gpio >= m->nlines) {
		/* Its queue worker panics: nothing is answered any more. */
		m->dead_queue = true;
		return MODEL_DEAD;
	} else if (type != VGPIO_REQ_GET_LINE_NAMES && gpio < m->nlines &&
		   m->lines[gpio].hang && hold_request(m, rd, cap, token)) {
		return MODEL_HELD;
	} else {
		n = exec_request(m, rd, resp, cap);
	}
	model_fault(m, FP_REPLY, msg, gpio, &fz, &a);
	if (a.kind == FAULT_STATUS && n >= 1)
		resp[0] = (uint8_t)a.arg;
	if (a.kind == FAULT_VALUE && n >= 2)
		resp[1] = (uint8_t)a.arg;
	if (act)
		*act = a;
	return n;
}

int model_set_hang(struct model *m, uint32_t line, bool on)
{
	size_t i, j;

	if (line >= m->nlines)
		return -1;
	m->lines[line].hang = on;
	if (on)
		return 0;
	for (i = 0, j = 0; i < m->nheld; i++) {
		struct held_req h = m->held[i];
		uint8_t resp[2];
		int n;

		if (get_le16(h.req + 2) != line) {
			m->held[j++] = h;
			continue;
		}
		n = exec_request(m, h.req, resp, h.resp_cap < 2 ? h.resp_cap : 2);
		if (m->ops.req_done)
			m->ops.req_done(m->ops.ctx, h.token, resp, (size_t)n);
	}
	m->nheld = j;
	return 0;
}

/* Does a storm fault make this buffer (of an enabled line) go back now? */
static bool storm_now(struct model *m, uint32_t gpio)
{
	struct line *l = &m->lines[gpio];
	struct fault_act a;
	int src;

	if (l->storm_left) {
		l->storm_left--;
		return true;
	}
	src = model_fault(m, FP_UNMASK_ENABLED, FMSG_EVENT, gpio, &l->fz, &a);
	if (!src)
		return false;
	/* The fuzzer's storm is a burst of arg buffers. */
	if (src == 2 && a.arg > 1)
		l->storm_left = (uint8_t)(a.arg - 1);
	return true;
}

void model_event_buffer(struct model *m, const uint8_t *rd, size_t rdlen,
			size_t wlen, uint32_t token)
{
	struct fault_act fz = fuzz_next(m, FMSG_EVENT), a;
	uint32_t gpio = rdlen >= 2 ? get_le16(rd) : UINT32_MAX;
	struct line *l;

	if (gpio >= m->nlines ||
	    (rust_vmm(m) && (rdlen != 2 || wlen != 1))) {
		m->st.protocol_errors++;
		ev_complete(m, gpio, token, VGPIO_EVENT_INVALID, &fz, 0);
		return;
	}
	l = &m->lines[gpio];
	if (l->held || l->stale) {
		/*
		 * One buffer per line: the new one goes back at once. A stale
		 * line still counts as holding one, and so does a line whose
		 * buffer outlived type NONE (the driver did nothing wrong
		 * there, so no protocol error).
		 */
		if (l->held && !l->orphan)
			m->st.protocol_errors++;
		ev_complete(m, gpio, token, VGPIO_EVENT_INVALID, &fz, 0);
		return;
	}
	if (l->irq_type == VGPIO_IRQ_NONE) {
		if (model_fault(m, FP_UNMASK_NONE, FMSG_EVENT, gpio, &fz, &a))
			ev_complete(m, gpio, token, VGPIO_EVENT_VALID, &fz,
				    model_now(m));
		else
			ev_complete(m, gpio, token, VGPIO_EVENT_INVALID, &fz, 0);
		return;
	}
	l->held = true;
	l->held_token = token;
	l->fz = fz;
	if (irq_is_edge(l->irq_type) && l->fifo_n) {
		line_fire(m, gpio, fifo_pop(l));
	} else if (irq_is_edge(l->irq_type) && l->pending) {
		l->pending = false;
		line_fire(m, gpio, l->pend_t);
	} else if (irq_is_level(l->irq_type) && level_active(l->irq_type, l->level)) {
		line_fire(m, gpio, l->level_t ? l->level_t : model_now(m));
	} else if (storm_now(m, gpio)) {
		m->st.storm++;
		line_return_buffer(m, gpio, VGPIO_EVENT_VALID, model_now(m));
	}
}

void model_evq_reset(struct model *m)
{
	uint32_t i;

	for (i = 0; i < m->nlines; i++) {
		struct line *l = &m->lines[i];

		/* Keep mode: the device still "holds" the buffer, as the
		 * reference back end keeps its pending event request. */
		if (m->reset_keep && l->held)
			l->stale = true;
		l->held = false;
		l->orphan = false;
		if (!m->reset_keep)
			line_forget_edges(l);
		l->storm_left = 0;
	}
}

void model_reqq_reset(struct model *m)
{
	m->nheld = 0;
}

/*
 * The device is reset: every line returns to its initial state (no
 * direction, value 0, no interrupt, masked). What the host side set
 * (input levels, loops, fail and hang) stays.
 */
void model_device_reset(struct model *m)
{
	uint32_t i;

	for (i = 0; i < m->nlines; i++) {
		struct line *l = &m->lines[i];

		l->dir = VGPIO_DIR_NONE;
		l->value = 0;
		l->value_set = false;
		l->irq_type = VGPIO_IRQ_NONE;
		l->held = false;
		l->orphan = false;
		line_forget_edges(l);
		l->stale = false;
		l->storm_left = 0;
	}
	m->nheld = 0;
}

uint32_t model_stale_count(const struct model *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->nlines; i++)
		n += m->lines[i].stale;
	return n;
}
