// SPDX-License-Identifier: GPL-2.0
/*
 * The GPIO model: requests and the event queue state machine of the virtio
 * GPIO device (virtio spec, "GPIO Device"), without any I/O.
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
	return model_parse_names(m);
}

void model_free(struct model *m)
{
	uint32_t i;

	if (m->name_of)
		for (i = 0; i < m->nlines; i++)
			free(m->name_of[i]);
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

bool model_line_ready(const struct model *m, uint32_t line)
{
	return line < m->nlines && m->lines[line].held &&
	       !m->lines[line].pending;
}

/* Give the held event buffer of @line back with @status. */
static void line_return_buffer(struct model *m, uint32_t line, uint8_t status)
{
	struct line *l = &m->lines[line];

	if (!l->held)
		return;
	l->held = false;
	if (status == VGPIO_EVENT_VALID) {
		l->st.events++;
		m->st.events++;
	} else {
		l->st.invalid++;
		m->st.invalid++;
	}
	if (m->ops.event_done)
		m->ops.event_done(m->ops.ctx, l->held_token, status);
}

static void line_level_changed(struct model *m, uint32_t line, int from,
			       int to)
{
	struct line *l = &m->lines[line];

	if (from == to || l->irq_type == VGPIO_IRQ_NONE)
		return;
	if (irq_is_edge(l->irq_type)) {
		if (!model_edge_makes_event(l->irq_type, from, to))
			return;
		if (l->held)
			line_return_buffer(m, line, VGPIO_EVENT_VALID);
		else if (l->pending)
			m->st.collapsed++;
		else
			l->pending = true;
		return;
	}
	if (level_active(l->irq_type, to) && l->held)
		line_return_buffer(m, line, VGPIO_EVENT_VALID);
}

int model_set_level(struct model *m, uint32_t line, int level)
{
	struct line *l;
	int old;

	if (line >= m->nlines)
		return -1;
	l = &m->lines[line];
	old = l->level;
	l->level = level ? 1 : 0;
	line_level_changed(m, line, old, l->level);
	return 0;
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

void model_reset_stats(struct model *m)
{
	uint32_t i;

	memset(&m->st, 0, sizeof(m->st));
	for (i = 0; i < m->nlines; i++)
		memset(&m->lines[i].st, 0, sizeof(m->lines[i].st));
}

static void set_irq_none(struct model *m, uint32_t line)
{
	struct line *l = &m->lines[line];

	l->irq_type = VGPIO_IRQ_NONE;
	l->pending = false;
	line_return_buffer(m, line, VGPIO_EVENT_INVALID);
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
			set_irq_none(m, gpio);
			return VGPIO_STATUS_OK;
		}
		if (value != VGPIO_DIR_OUT && value != VGPIO_DIR_IN)
			return VGPIO_STATUS_ERR;
		l->dir = (uint8_t)value;
		loops_drive(m, gpio);
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_GET_VALUE:
		if (l->dir == VGPIO_DIR_NONE)
			return VGPIO_STATUS_ERR;
		*rvalue = l->dir == VGPIO_DIR_OUT ? l->value : l->level;
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_SET_VALUE:
		if (value > 1)
			return VGPIO_STATUS_ERR;
		l->value = (uint8_t)value;
		loops_drive(m, gpio);
		return VGPIO_STATUS_OK;
	case VGPIO_REQ_SET_IRQ_TYPE:
		if (!m->irq_negotiated)
			return VGPIO_STATUS_ERR;
		if (value == VGPIO_IRQ_NONE) {
			set_irq_none(m, gpio);
			return VGPIO_STATUS_OK;
		}
		if (!irq_is_edge((uint8_t)value) && !irq_is_level((uint8_t)value))
			return VGPIO_STATUS_ERR;
		if (value > 0xff || l->dir == VGPIO_DIR_OUT)
			return VGPIO_STATUS_ERR;
		if (irq_is_level((uint8_t)value) && m->reject_level)
			return VGPIO_STATUS_ERR;
		if (l->irq_type != VGPIO_IRQ_NONE && l->irq_type != value)
			return VGPIO_STATUS_ERR;
		l->irq_type = (uint8_t)value;
		return VGPIO_STATUS_OK;
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

int model_request(struct model *m, const uint8_t *rd, size_t rdlen,
		  uint8_t *resp, size_t cap, uint32_t token)
{
	uint16_t type, gpio;

	m->st.requests++;
	if (cap == 0) {
		m->st.errors++;
		m->st.protocol_errors++;
		return 0;
	}
	if (rdlen < 8) {
		m->st.errors++;
		m->st.protocol_errors++;
		resp[0] = VGPIO_STATUS_ERR;
		if (cap < 2)
			return 1;
		resp[1] = 0;
		return 2;
	}
	type = get_le16(rd);
	gpio = get_le16(rd + 2);
	if (type != VGPIO_REQ_GET_LINE_NAMES && gpio < m->nlines &&
	    m->lines[gpio].hang) {
		struct held_req *h;

		if (m->nheld == m->held_cap) {
			size_t nc = m->held_cap ? m->held_cap * 2 : 16;
			struct held_req *p = realloc(m->held, nc * sizeof(*p));

			if (!p)
				goto run;
			m->held = p;
			m->held_cap = nc;
		}
		h = &m->held[m->nheld++];
		h->token = token;
		memcpy(h->req, rd, 8);
		h->resp_cap = cap;
		return MODEL_HELD;
	}
run:
	return exec_request(m, rd, resp, cap);
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

void model_event_buffer(struct model *m, const uint8_t *rd, size_t rdlen,
			uint32_t token)
{
	struct line *l;
	uint16_t gpio;

	if (rdlen < 2 || get_le16(rd) >= m->nlines) {
		m->st.protocol_errors++;
		m->st.invalid++;
		if (m->ops.event_done)
			m->ops.event_done(m->ops.ctx, token, VGPIO_EVENT_INVALID);
		return;
	}
	gpio = get_le16(rd);
	l = &m->lines[gpio];
	if (l->held) {
		/* One buffer per line: the new one goes back at once. */
		m->st.protocol_errors++;
		m->st.invalid++;
		l->st.invalid++;
		if (m->ops.event_done)
			m->ops.event_done(m->ops.ctx, token, VGPIO_EVENT_INVALID);
		return;
	}
	l->held = true;
	l->held_token = token;
	if (l->irq_type == VGPIO_IRQ_NONE) {
		line_return_buffer(m, gpio, VGPIO_EVENT_INVALID);
	} else if (irq_is_edge(l->irq_type)) {
		if (l->pending) {
			l->pending = false;
			line_return_buffer(m, gpio, VGPIO_EVENT_VALID);
		}
	} else if (level_active(l->irq_type, l->level)) {
		line_return_buffer(m, gpio, VGPIO_EVENT_VALID);
	}
}

void model_evq_reset(struct model *m)
{
	uint32_t i;

	for (i = 0; i < m->nlines; i++) {
		m->lines[i].held = false;
		m->lines[i].pending = false;
	}
}

void model_reqq_reset(struct model *m)
{
	m->nheld = 0;
}

/*
 * The driver reset the device: every line returns to its initial state
 * (no direction, value 0, no interrupt, masked). What the host side set
 * (input levels, loops, fail and hang) stays.
 */
void model_device_reset(struct model *m)
{
	uint32_t i;

	for (i = 0; i < m->nlines; i++) {
		struct line *l = &m->lines[i];

		l->dir = VGPIO_DIR_NONE;
		l->value = 0;
		l->irq_type = VGPIO_IRQ_NONE;
		l->held = false;
		l->pending = false;
	}
	m->nheld = 0;
}
