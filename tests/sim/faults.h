/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the simulated device: one table of faults matched
 * against each message, a deterministic fuzzer that picks faults from a
 * seed, and generators of broken names blocks. Pure code, no I/O.
 */
#ifndef VGPIO_SIM_FAULTS_H
#define VGPIO_SIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fault_kind {
	FAULT_NONE = 0,
	/* Any message: when (or whether) its buffer goes back. */
	FAULT_DROP,		/* never returned */
	FAULT_DELAY,		/* returned arg ms later */
	FAULT_REORDER,		/* held, returned in reverse order */
	FAULT_LEN_SHORT,	/* used length: half of what was written */
	FAULT_LEN_LONG,		/* used length: writable size + 8 */
	FAULT_LEN_ZERO,		/* used length 0 */
	/* Requests: the response bytes. */
	FAULT_STATUS,		/* status byte arg */
	FAULT_VALUE,		/* value byte arg */
	/* Event buffers. */
	FAULT_WRONG_LINE,	/* another line's buffer carries the event */
	FAULT_NO_TYPE,		/* VALID for a line of type NONE */
	FAULT_TWICE,		/* the head goes on the used ring twice */
	FAULT_EVSTATUS,		/* event status byte arg */
	FAULT_STORM,		/* VALID at once for an enabled line */
	FAULT_NKINDS,
};

/* The message classes of req=. */
enum fault_msg {
	FMSG_NAMES,
	FMSG_GET_DIR,
	FMSG_SET_DIR,
	FMSG_GET_VALUE,
	FMSG_SET_VALUE,
	FMSG_IRQ_TYPE,
	FMSG_EVENT,
	FMSG_OTHER,		/* unknown request types: only req=any */
	FMSG_NMSG,
};
#define FMSG_ANY		(-1)
#define FAULT_LINE_ALL		(-1)
#define FAULT_COUNT_ALWAYS	(-1)

/* Where in a message's life a fault is looked up. */
enum fault_point {
	FP_REPLY,		/* a request is answered, a buffer goes back */
	FP_UNMASK_NONE,		/* an event buffer for a line of type NONE */
	FP_UNMASK_ENABLED,	/* an event buffer for an enabled line */
	FP_EVENT,		/* a line with a held buffer has an event */
};

#define FAULT_MAX		64
#define FAULT_REORDER_MS	50
#define FUZZ_DELAY_MAX_MS	200
#define FUZZ_STORM_MAX		8

struct fault {
	uint32_t id;
	uint8_t kind;
	int8_t msg;		/* FMSG_*, or FMSG_ANY */
	int32_t line;		/* or FAULT_LINE_ALL */
	int64_t count;		/* left, or FAULT_COUNT_ALWAYS */
	uint32_t arg;
};

struct fault_table {
	struct fault f[FAULT_MAX];
	unsigned int n;
	uint32_t next_id;
};

/* What to do with one message. */
struct fault_act {
	uint8_t kind;
	uint32_t arg;
};

struct fuzz {
	bool on;
	uint64_t seed;
	unsigned int rate;	/* percent of messages that get a fault */
	uint64_t nreq, nev;	/* requests and event buffers seen */
	uint64_t faults;	/* faults applied */
	uint64_t per_kind[FAULT_NKINDS];
};

const char *fault_kind_name(uint8_t kind);
const char *fault_msg_name(int msg);
/* The class of a request of virtio type @type. */
int fault_msg_of_type(uint16_t type);

/* Can @kind act at @point on a message of class @msg? */
bool fault_kind_applies(uint8_t kind, enum fault_point point, int msg);

/**
 * fault_parse() - parse KIND[,line=L|all][,req=TYPE|any][,count=N|always][,arg=V]
 * @nlines: lines of the device (line= must be below)
 * @err: a message on failure
 *
 * Return: 0, or -1 with @err set.
 */
int fault_parse(const char *spec, uint32_t nlines, struct fault *f,
		char *err, size_t errcap);

/* Add @f (its id is assigned); returns the id, or 0 when the table is full. */
uint32_t fault_add(struct fault_table *t, const struct fault *f);
/* Remove fault @id (0: all). Returns 0, or -1 if there is no such fault. */
int fault_clear(struct fault_table *t, uint32_t id);

/*
 * fault_take() - the first fault of the table for this message
 * Consumes one of its count (retiring it at 0) and fills @act.
 * Return: true when a fault applies.
 */
bool fault_take(struct fault_table *t, enum fault_point point, int msg,
		uint32_t line, struct fault_act *act);

/* "id=N kind=K line=L req=R count=C arg=A"; returns the length. */
int fault_format(const struct fault *f, char *buf, size_t cap);

void fuzz_start(struct fuzz *fz, uint64_t seed, unsigned int rate);

/*
 * fuzz_decide() - the fuzzer's choice for the @k-th message of class @msg
 * A pure function of its arguments: FAULT_NONE for correct behaviour, or
 * a kind that applies to @msg with its argument.
 */
struct fault_act fuzz_decide(uint64_t seed, unsigned int rate, uint64_t k,
			     int msg);

/* The names block faults of --names-fault. */
enum names_fault {
	NAMES_FAULT_NONE,
	NAMES_FAULT_NO_NUL,	/* no final NUL */
	NAMES_FAULT_FEWER,	/* names for half the lines only */
	NAMES_FAULT_DUP,	/* odd lines repeat the name before */
	NAMES_FAULT_NON_ASCII,	/* bytes 0x80..0xff in every name */
	NAMES_FAULT_PADDED,	/* default names, NUL padding up to a size */
};

/* Parse KIND or padded[:SIZE]; returns 0, or -1. */
int names_fault_parse(const char *s, enum names_fault *kind, uint32_t *size);

/*
 * names_fault_block() - a names block for @nlines lines with fault @kind
 * (@size: the padded size). Caller frees.
 * Return: the block with *len set, or NULL (out of memory, or @size
 * smaller than the names).
 */
uint8_t *names_fault_block(enum names_fault kind, uint32_t nlines,
			   uint32_t size, uint32_t *len);

#endif
