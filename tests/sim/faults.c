// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: the fault table, the fuzzer's decisions and the broken
 * names blocks. Nothing here does I/O or reads a clock; the model and the
 * transport act on what these functions decide.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "model.h"

static const char *const kind_names[FAULT_NKINDS] = {
	[FAULT_NONE] = "none",
	[FAULT_DROP] = "drop",
	[FAULT_DELAY] = "delay",
	[FAULT_REORDER] = "reorder",
	[FAULT_LEN_SHORT] = "len-short",
	[FAULT_LEN_LONG] = "len-long",
	[FAULT_LEN_ZERO] = "len-zero",
	[FAULT_STATUS] = "status",
	[FAULT_VALUE] = "value",
	[FAULT_WRONG_LINE] = "wrong-line",
	[FAULT_NO_TYPE] = "no-type",
	[FAULT_TWICE] = "twice",
	[FAULT_EVSTATUS] = "evstatus",
	[FAULT_STORM] = "storm",
};

static const char *const msg_names[FMSG_NMSG] = {
	[FMSG_NAMES] = "names",
	[FMSG_GET_DIR] = "get-dir",
	[FMSG_SET_DIR] = "set-dir",
	[FMSG_GET_VALUE] = "get-value",
	[FMSG_SET_VALUE] = "set-value",
	[FMSG_IRQ_TYPE] = "irq-type",
	[FMSG_EVENT] = "event",
	[FMSG_OTHER] = "other",
};

/* Default arguments, for kinds that take one. */
static const uint32_t kind_default_arg[FAULT_NKINDS] = {
	[FAULT_DELAY] = 100,
	[FAULT_REORDER] = 2,
	[FAULT_STATUS] = 0x7f,
	[FAULT_VALUE] = 0xff,
	[FAULT_EVSTATUS] = 2,
};

const char *fault_kind_name(uint8_t kind)
{
	return kind < FAULT_NKINDS ? kind_names[kind] : "?";
}

const char *fault_msg_name(int msg)
{
	if (msg == FMSG_ANY)
		return "any";
	return msg >= 0 && msg < FMSG_NMSG ? msg_names[msg] : "?";
}

int fault_msg_of_type(uint16_t type)
{
	switch (type) {
	case VGPIO_REQ_GET_LINE_NAMES:
		return FMSG_NAMES;
	case VGPIO_REQ_GET_DIRECTION:
		return FMSG_GET_DIR;
	case VGPIO_REQ_SET_DIRECTION:
		return FMSG_SET_DIR;
	case VGPIO_REQ_GET_VALUE:
		return FMSG_GET_VALUE;
	case VGPIO_REQ_SET_VALUE:
		return FMSG_SET_VALUE;
	case VGPIO_REQ_SET_IRQ_TYPE:
		return FMSG_IRQ_TYPE;
	default:
		return FMSG_OTHER;
	}
}

bool fault_kind_applies(uint8_t kind, enum fault_point point, int msg)
{
	bool ev = msg == FMSG_EVENT;

	switch (point) {
	case FP_REPLY:
		switch (kind) {
		case FAULT_DROP:
		case FAULT_DELAY:
		case FAULT_REORDER:
		case FAULT_LEN_SHORT:
		case FAULT_LEN_LONG:
		case FAULT_LEN_ZERO:
			return true;
		case FAULT_STATUS:
			return !ev;
		case FAULT_VALUE:
			return !ev && msg != FMSG_NAMES;
		case FAULT_TWICE:
		case FAULT_EVSTATUS:
			return ev;
		default:
			return false;
		}
	case FP_UNMASK_NONE:
		return ev && kind == FAULT_NO_TYPE;
	case FP_UNMASK_ENABLED:
		return ev && kind == FAULT_STORM;
	case FP_EVENT:
		return ev && kind == FAULT_WRONG_LINE;
	}
	return false;
}

/* Does @kind act on messages of class @msg at all? */
static bool kind_fits(uint8_t kind, int msg)
{
	int m, lo = msg == FMSG_ANY ? 0 : msg, hi = msg == FMSG_ANY ? FMSG_NMSG - 1 : msg;

	for (m = lo; m <= hi; m++)
		if (fault_kind_applies(kind, FP_REPLY, m) ||
		    fault_kind_applies(kind, FP_UNMASK_NONE, m) ||
		    fault_kind_applies(kind, FP_UNMASK_ENABLED, m) ||
		    fault_kind_applies(kind, FP_EVENT, m))
			return true;
	return false;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return -1;
	*v = x;
	return 0;
}

int fault_parse(const char *spec, uint32_t nlines, struct fault *f,
		char *err, size_t errcap)
{
	char buf[128], *save = NULL, *t;
	bool have_arg = false;
	uint64_t v;
	int k;

	memset(f, 0, sizeof(*f));
	f->msg = FMSG_ANY;
	f->line = FAULT_LINE_ALL;
	f->count = FAULT_COUNT_ALWAYS;
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errcap, "fault spec too long");
		return -1;
	}
	strcpy(buf, spec);
	t = strtok_r(buf, ",", &save);
	if (!t) {
		snprintf(err, errcap, "empty fault spec");
		return -1;
	}
	for (k = 1; k < FAULT_NKINDS; k++)
		if (!strcmp(t, kind_names[k]))
			break;
	if (k == FAULT_NKINDS) {
		snprintf(err, errcap, "unknown fault kind '%s'", t);
		return -1;
	}
	f->kind = (uint8_t)k;
	while ((t = strtok_r(NULL, ",", &save))) {
		if (!strncmp(t, "line=", 5)) {
			if (!strcmp(t + 5, "all"))
				f->line = FAULT_LINE_ALL;
			else if (nlines && !parse_u64(t + 5, nlines - 1, &v))
				f->line = (int32_t)v;
			else
				goto bad;
		} else if (!strncmp(t, "req=", 4)) {
			if (!strcmp(t + 4, "any")) {
				f->msg = FMSG_ANY;
			} else {
				for (k = 0; k < FMSG_OTHER; k++)
					if (!strcmp(t + 4, msg_names[k]))
						break;
				if (k == FMSG_OTHER)
					goto bad;
				f->msg = (int8_t)k;
			}
		} else if (!strncmp(t, "count=", 6)) {
			if (!strcmp(t + 6, "always"))
				f->count = FAULT_COUNT_ALWAYS;
			else if (!parse_u64(t + 6, 1000000000, &v) && v)
				f->count = (int64_t)v;
			else
				goto bad;
		} else if (!strncmp(t, "arg=", 4)) {
			if (parse_u64(t + 4, 0xffffffffULL, &v))
				goto bad;
			f->arg = (uint32_t)v;
			have_arg = true;
		} else {
			goto bad;
		}
	}
	if (!have_arg)
		f->arg = kind_default_arg[f->kind];
	if (!kind_fits(f->kind, f->msg)) {
		snprintf(err, errcap, "fault %s does not apply to req=%s",
			 kind_names[f->kind], fault_msg_name(f->msg));
		return -1;
	}
	switch (f->kind) {
	case FAULT_STATUS:
	case FAULT_VALUE:
	case FAULT_EVSTATUS:
		if (f->arg > 0xff) {
			snprintf(err, errcap, "arg of %s is a byte (0..255)",
				 kind_names[f->kind]);
			return -1;
		}
		break;
	case FAULT_DELAY:
		if (f->arg > 600000) {
			snprintf(err, errcap, "delay arg is 0..600000 ms");
			return -1;
		}
		break;
	case FAULT_REORDER:
		if (f->arg < 2 || f->arg > 64) {
			snprintf(err, errcap, "reorder arg is 2..64 messages");
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
bad:
	snprintf(err, errcap, "bad fault field '%s'", t);
	return -1;
}

uint32_t fault_add(struct fault_table *t, const struct fault *f)
{
	if (t->n >= FAULT_MAX)
		return 0;
	t->f[t->n] = *f;
	t->f[t->n].id = ++t->next_id;
	return t->f[t->n++].id;
}

static void fault_remove(struct fault_table *t, unsigned int i)
{
	memmove(&t->f[i], &t->f[i + 1], (t->n - i - 1) * sizeof(t->f[0]));
	t->n--;
}

int fault_clear(struct fault_table *t, uint32_t id)
{
	unsigned int i;

	if (!id) {
		t->n = 0;
		return 0;
	}
	for (i = 0; i < t->n; i++) {
		if (t->f[i].id == id) {
			fault_remove(t, i);
			return 0;
		}
	}
	return -1;
}

bool fault_take(struct fault_table *t, enum fault_point point, int msg,
		uint32_t line, struct fault_act *act)
{
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		struct fault *f = &t->f[i];

		if ((f->msg != FMSG_ANY && f->msg != msg) ||
		    (f->line != FAULT_LINE_ALL && (uint32_t)f->line != line) ||
		    !fault_kind_applies(f->kind, point, msg))
			continue;
		act->kind = f->kind;
		act->arg = f->arg;
		if (f->count != FAULT_COUNT_ALWAYS && --f->count == 0)
			fault_remove(t, i);
		return true;
	}
	return false;
}

int fault_format(const struct fault *f, char *buf, size_t cap)
{
	char line[16], count[24];

	if (f->line == FAULT_LINE_ALL)
		snprintf(line, sizeof(line), "all");
	else
		snprintf(line, sizeof(line), "%d", f->line);
	if (f->count == FAULT_COUNT_ALWAYS)
		snprintf(count, sizeof(count), "always");
	else
		snprintf(count, sizeof(count), "%lld", (long long)f->count);
	return snprintf(buf, cap, "id=%u kind=%s line=%s req=%s count=%s arg=%u",
			f->id, fault_kind_name(f->kind), line,
			fault_msg_name(f->msg), count, f->arg);
}

/* ---- fuzzer ---- */

/* The splitmix64 output function: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fuzz_start(struct fuzz *fz, uint64_t seed, unsigned int rate)
{
	memset(fz, 0, sizeof(*fz));
	fz->on = true;
	fz->seed = seed;
	fz->rate = rate;
}

static const uint8_t fuzz_req_kinds[] = {
	FAULT_DROP, FAULT_DELAY, FAULT_REORDER, FAULT_LEN_SHORT,
	FAULT_LEN_LONG, FAULT_LEN_ZERO, FAULT_STATUS, FAULT_VALUE,
};

static const uint8_t fuzz_ev_kinds[] = {
	FAULT_DROP, FAULT_DELAY, FAULT_REORDER, FAULT_LEN_SHORT,
	FAULT_LEN_LONG, FAULT_LEN_ZERO, FAULT_WRONG_LINE, FAULT_NO_TYPE,
	FAULT_TWICE, FAULT_EVSTATUS, FAULT_STORM,
};

struct fault_act fuzz_decide(uint64_t seed, unsigned int rate, uint64_t k,
			     int msg)
{
	struct fault_act a = { FAULT_NONE, 0 };
	uint64_t h = mix64(mix64(seed) ^ mix64((k << 4) | (uint64_t)(msg & 15)));
	uint32_t r = (uint32_t)(h >> 32);
	const uint8_t *kinds;
	size_t n;

	if (h % 100 >= rate)
		return a;
	if (msg == FMSG_EVENT) {
		kinds = fuzz_ev_kinds;
		n = sizeof(fuzz_ev_kinds);
	} else {
		kinds = fuzz_req_kinds;
		/* Names have no value byte. */
		n = sizeof(fuzz_req_kinds) - (msg == FMSG_NAMES);
	}
	a.kind = kinds[(h >> 8) % n];
	switch (a.kind) {
	case FAULT_DELAY:
		a.arg = 1 + r % FUZZ_DELAY_MAX_MS;
		break;
	case FAULT_REORDER:
		a.arg = 2;
		break;
	case FAULT_STATUS:
	case FAULT_EVSTATUS:
		a.arg = 2 + r % 254;
		break;
	case FAULT_VALUE:
		/* A value no line can have: 2+, or 3+ for a direction. */
		a.arg = msg == FMSG_GET_DIR ? 3 + r % 253 : 2 + r % 254;
		break;
	case FAULT_STORM:
		a.arg = 2 + r % (FUZZ_STORM_MAX - 1);
		break;
	default:
		break;
	}
	return a;
}

/* ---- names blocks ---- */

int names_fault_parse(const char *s, enum names_fault *kind, uint32_t *size)
{
	uint64_t v = 0;

	*size = 0;
	if (!strcmp(s, "no-nul"))
		*kind = NAMES_FAULT_NO_NUL;
	else if (!strcmp(s, "fewer"))
		*kind = NAMES_FAULT_FEWER;
	else if (!strcmp(s, "dup"))
		*kind = NAMES_FAULT_DUP;
	else if (!strcmp(s, "non-ascii"))
		*kind = NAMES_FAULT_NON_ASCII;
	else if (!strcmp(s, "padded"))
		*kind = NAMES_FAULT_PADDED;
	else if (!strncmp(s, "padded:", 7) && !parse_u64(s + 7, 1U << 24, &v))
		*kind = NAMES_FAULT_PADDED;
	else
		return -1;
	if (*kind == NAMES_FAULT_PADDED)
		*size = s[6] == ':' ? (uint32_t)v : 65536;
	return 0;
}

uint8_t *names_fault_block(enum names_fault kind, uint32_t nlines,
			   uint32_t size, uint32_t *len)
{
	size_t cap = (size_t)nlines * 24 + 1, off = 0;
	uint32_t i, n = kind == NAMES_FAULT_FEWER ? nlines / 2 : nlines;
	uint8_t *b;

	if (kind == NAMES_FAULT_PADDED && cap < size)
		cap = size;
	b = calloc(1, cap);
	if (!b)
		return NULL;
	for (i = 0; i < n; i++) {
		char *p = (char *)b + off;
		size_t room = cap - off;

		if (kind == NAMES_FAULT_DUP)
			off += (size_t)snprintf(p, room, "GPIO%u", i & ~1U) + 1;
		else if (kind == NAMES_FAULT_NON_ASCII)
			off += (size_t)snprintf(p, room, "GPIO%u-\xb0\xe9\xff", i) + 1;
		else
			off += (size_t)snprintf(p, room, "GPIO%u", i) + 1;
	}
	if (kind == NAMES_FAULT_NO_NUL && off)
		off--;
	if (kind == NAMES_FAULT_PADDED) {
		if (off > size) {
			free(b);
			return NULL;
		}
		off = size;
	}
	*len = (uint32_t)off;
	return b;
}
