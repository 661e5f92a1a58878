/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The GPIO model of the virtio GPIO device simulator: line state, the six
 * request types and the event queue state machine. Pure functions over a
 * struct model; no I/O, no locking (the caller serializes).
 */
#ifndef VGPIO_SIM_MODEL_H
#define VGPIO_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults.h"

#define VGPIO_REQ_GET_LINE_NAMES	0x0001
#define VGPIO_REQ_GET_DIRECTION		0x0002
#define VGPIO_REQ_SET_DIRECTION		0x0003
#define VGPIO_REQ_GET_VALUE		0x0004
#define VGPIO_REQ_SET_VALUE		0x0005
#define VGPIO_REQ_SET_IRQ_TYPE		0x0006

#define VGPIO_STATUS_OK			0
#define VGPIO_STATUS_ERR		1

#define VGPIO_DIR_NONE			0
#define VGPIO_DIR_OUT			1
#define VGPIO_DIR_IN			2

#define VGPIO_IRQ_NONE			0x00
#define VGPIO_IRQ_EDGE_RISING		0x01
#define VGPIO_IRQ_EDGE_FALLING		0x02
#define VGPIO_IRQ_EDGE_BOTH		0x03
#define VGPIO_IRQ_LEVEL_HIGH		0x04
#define VGPIO_IRQ_LEVEL_LOW		0x08

#define VGPIO_EVENT_INVALID		0
#define VGPIO_EVENT_VALID		1

/* Returned by model_request() when the request is held (see hang). */
#define MODEL_HELD			(-1)
/* Returned by model_request() when the request queue died (rust-vmm rules). */
#define MODEL_DEAD			(-2)

#define MODEL_MAX_LOOPS			256
/* Edge times kept per line (the newest). */
#define MODEL_EDGETIMES			4096
/*
 * Edges a line keeps in the fifo behaviour: the reference back end reads
 * them from a line request of the host's gpiolib-cdev, whose FIFO holds 16
 * events per requested line and drops the oldest when full.
 */
#define MODEL_FIFO_DEPTH		16

/* Which device the model follows where the specification leaves room. */
enum model_rules {
	MODEL_RULES_SPEC,	/* the virtio specification */
	MODEL_RULES_RUST_VMM,	/* rust-vmm's vhost-device-gpio */
};

/*
 * How the device keeps edges and answers requests (see the documentation,
 * "Device behaviours").
 */
enum model_behaviour {
	/*
	 * One latched edge per masked line, the rest collapse into it; type
	 * NONE gives the held buffer back INVALID at once; requests are
	 * executed and completed in ring order.
	 */
	MODEL_BEHAVIOUR_LATCH,
	/*
	 * Edges kept in a FIFO per line (MODEL_FIFO_DEPTH, the oldest dropped
	 * when full) and given one per buffer, as rust-vmm's vhost-device-gpio
	 * does; after type NONE the held buffer goes back INVALID only at the
	 * line's next edge; the requests of one scan of the ring are executed
	 * and completed in a shuffled order (the transport's part).
	 */
	MODEL_BEHAVIOUR_FIFO,
};

/* What a level change did (model_set_level()). */
enum model_edge {
	MODEL_EDGE_NONE,	/* no event for the line's type */
	MODEL_EDGE_SENT,	/* a held buffer went back VALID */
	MODEL_EDGE_LATCHED,	/* kept while masked (latched or queued) */
	MODEL_EDGE_COLLAPSED,	/* an edge lost: met a latched edge, or
				 * pushed the oldest out of a full FIFO */
	MODEL_EDGE_LOST,	/* level type, masked: nothing latched */
};

struct line_stats {
	uint64_t requests;
	uint64_t errors;
	uint64_t events;
	uint64_t invalid;
	uint64_t edges;		/* edges that make events for the type */
	uint64_t latched;	/* ... kept while masked */
	uint64_t collapsed;	/* ... lost in the device */
};

struct line {
	uint8_t dir;		/* VGPIO_DIR_* */
	uint8_t value;		/* output value */
	uint8_t level;		/* input level (host side) */
	uint8_t irq_type;	/* VGPIO_IRQ_* */
	bool held;		/* an event buffer is held: unmasked */
	bool pending;		/* latched edge waiting for a buffer */
	bool stale;		/* "held" a buffer whose ring is gone (keep mode) */
	bool value_set;		/* SET_VALUE since direction NONE (or ever) */
	bool fail;		/* ctl "fail": every request answers ERR */
	bool hang;		/* ctl "hang": requests are held */
	bool orphan;		/* fifo: the held buffer outlived type NONE */
	uint8_t orphan_type;	/* ... the type whose edge returns it */
	uint16_t refuse;	/* ctl "refuse": bit per SET_IRQ_TYPE value */
	uint8_t fifo_n;		/* fifo: edges queued */
	uint8_t fifo_head;	/* fifo: index of the oldest */
	uint64_t fifo_t[MODEL_FIFO_DEPTH];	/* fifo: their times */
	uint8_t storm_left;	/* buffers still to complete at once (fuzz) */
	uint32_t held_token;	/* token of the held event buffer */
	struct fault_act fz;	/* the fuzzer's choice for the held buffer */
	uint64_t pend_t;	/* time of the latched edge */
	uint64_t level_t;	/* time of the last level change */
	uint64_t *et;		/* edge times of VALID events, a ring */
	uint64_t et_n;		/* events recorded since reset-stats */
	struct line_stats st;
};

struct model_stats {
	uint64_t requests;
	uint64_t errors;
	uint64_t events;
	uint64_t invalid;
	uint64_t collapsed;
	uint64_t protocol_errors;
	uint64_t kicks;
	uint64_t batch_max;
	uint64_t storm;		/* events made by storm faults */
	uint64_t faults;	/* faults injected (table and fuzzer) */
	uint64_t svc_n;		/* requests answered at once ... */
	uint64_t svc_total_ns;	/* ... their service time, in total */
	uint64_t svc_max_ns;	/* ... and the longest */
	uint64_t calls[2];	/* notifications sent, per queue */
};

/* A request held by "hang", answered later in arrival order. */
struct held_req {
	uint32_t token;
	uint8_t req[8];
	size_t resp_cap;
};

struct model_ops {
	/*
	 * An event buffer is returned with status byte @status (normally
	 * VGPIO_EVENT_*); @act says how (drop, delay, ...: FAULT_NONE for
	 * at once).
	 */
	void (*event_done)(void *ctx, uint32_t token, uint8_t status,
			   const struct fault_act *act);
	/* A held request is answered: resp holds len bytes. */
	void (*req_done)(void *ctx, uint32_t token, const uint8_t *resp,
			 size_t len);
	/* The time now in ns (CLOCK_MONOTONIC); NULL: always 0. */
	uint64_t (*now)(void *ctx);
	void *ctx;
};

struct model {
	uint32_t nlines;
	struct line *lines;
	uint8_t *names;		/* the names block (real bytes) */
	uint32_t names_len;	/* its real length */
	uint32_t names_size;	/* gpio_names_size reported in config */
	char **name_of;		/* per-line printable name or NULL */
	bool offer_irq;		/* F_IRQ offered */
	bool irq_negotiated;	/* F_IRQ accepted by the driver */
	bool reject_level;
	bool reset_keep;	/* ring stops keep the line state */
	bool mock_values;	/* GET_VALUE needs a SET_VALUE first */
	bool dead_queue;	/* the request queue stopped answering */
	enum model_rules rules;
	enum model_behaviour behaviour;
	struct fault_table faults;
	struct fuzz fz;
	unsigned int nloops;
	struct { uint16_t a, b; } loops[MODEL_MAX_LOOPS];
	struct held_req *held;	/* requests held by hang */
	size_t nheld, held_cap;
	struct model_stats st;
	struct model_ops ops;
};

/**
 * model_init() - set up a model of @nlines lines
 * @names: names block (copied), may be NULL with @names_len 0
 * @names_size: gpio_names_size to report (normally @names_len)
 *
 * Return: 0, or -1 when out of memory.
 */
int model_init(struct model *m, uint32_t nlines, const uint8_t *names,
	       uint32_t names_len, uint32_t names_size);
void model_free(struct model *m);

/* Build the default names block "GPIO0".."GPIO<n-1>"; caller frees. */
uint8_t *model_default_names(uint32_t nlines, uint32_t *len);

/* The 8-byte config space. */
void model_config(const struct model *m, uint8_t cfg[8]);

/**
 * model_request() - handle one requestq message
 * @rd: the device-readable bytes, @rdlen of them (8 expected)
 * @resp: where the response goes, @cap bytes available
 * @token: identifies the message if it is held
 * @act: if not NULL, how the answer goes back (a fault of the table or
 *	the fuzzer: drop, delay, ...); status and value faults are already
 *	applied to @resp
 *
 * @rdlen is the whole readable length (@rd holds its first 8 bytes), @cap
 * the whole writable length.
 *
 * Return: bytes written to @resp, MODEL_HELD if the request is held
 * (answered later through ops.req_done), or MODEL_DEAD when it is never
 * answered because the queue died.
 */
int model_request(struct model *m, const uint8_t *rd, size_t rdlen,
		  uint8_t *resp, size_t cap, uint32_t token,
		  struct fault_act *act);

/*
 * model_event_buffer() - an eventq buffer arrived (unmask). @rd/@rdlen are
 * its readable bytes (le16 gpio), @wlen its writable length. It may be
 * returned at once through ops.event_done, or held.
 */
void model_event_buffer(struct model *m, const uint8_t *rd, size_t rdlen,
			size_t wlen, uint32_t token);

/* Host side. Return -1 on an invalid line, else an enum model_edge. */
int model_set_level(struct model *m, uint32_t line, int level);
int model_set_fail(struct model *m, uint32_t line, bool on);
/*
 * SET_IRQ_TYPE with a value whose bit (1 << value) is in @mask answers ERR
 * on @line without changing anything (NONE is never refused).
 */
int model_set_refuse(struct model *m, uint32_t line, uint16_t mask);
/* Switch the behaviour; edges kept by the old one are discarded. */
void model_set_behaviour(struct model *m, enum model_behaviour b);
/* Edges the line keeps for its next buffers (0 or 1 with latch). */
unsigned int model_line_kept(const struct model *m, uint32_t line);
int model_set_hang(struct model *m, uint32_t line, bool on);
int model_loop_add(struct model *m, uint32_t a, uint32_t b);
int model_loop_del(struct model *m, uint32_t a, uint32_t b);
void model_reset_stats(struct model *m);

/* Would a level change @from -> @to on a line of @type make an event? */
bool model_edge_makes_event(uint8_t type, int from, int to);
/* The line holds a buffer and has nothing pending: an event is seen now. */
bool model_line_ready(const struct model *m, uint32_t line);

/*
 * The eventq is gone (ring stopped). Forget mode: forget held buffers and
 * latched events. Keep mode: a line that held a buffer becomes stale.
 */
void model_evq_reset(struct model *m);
/* The requestq is gone: forget held requests. */
void model_reqq_reset(struct model *m);
/* Device reset: every line back to no direction, value 0, no interrupt. */
void model_device_reset(struct model *m);
/* Lines whose buffer went with its ring (keep mode). */
uint32_t model_stale_count(const struct model *m);

/* Copy @line's edge times, oldest first, up to @max; returns how many. */
uint32_t model_edgetimes(const struct model *m, uint32_t line, uint64_t *out,
			 uint32_t max);

const char *model_dir_name(uint8_t dir);
const char *model_irq_name(uint8_t type);

#endif
