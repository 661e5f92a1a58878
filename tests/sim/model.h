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

#define MODEL_MAX_LOOPS			256

struct line_stats {
	uint64_t requests;
	uint64_t errors;
	uint64_t events;
	uint64_t invalid;
};

struct line {
	uint8_t dir;		/* VGPIO_DIR_* */
	uint8_t value;		/* output value */
	uint8_t level;		/* input level (host side) */
	uint8_t irq_type;	/* VGPIO_IRQ_* */
	bool held;		/* an event buffer is held: unmasked */
	bool pending;		/* latched edge waiting for a buffer */
	bool fail;		/* ctl "fail": every request answers ERR */
	bool hang;		/* ctl "hang": requests are held */
	uint32_t held_token;	/* token of the held event buffer */
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
};

/* A request held by "hang", answered later in arrival order. */
struct held_req {
	uint32_t token;
	uint8_t req[8];
	size_t resp_cap;
};

struct model_ops {
	/* An event buffer is returned with status VGPIO_EVENT_*. */
	void (*event_done)(void *ctx, uint32_t token, uint8_t status);
	/* A held request is answered: resp holds len bytes. */
	void (*req_done)(void *ctx, uint32_t token, const uint8_t *resp,
			 size_t len);
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
 *
 * Return: bytes written to @resp, or MODEL_HELD if the request is held
 * (answered later through ops.req_done).
 */
int model_request(struct model *m, const uint8_t *rd, size_t rdlen,
		  uint8_t *resp, size_t cap, uint32_t token);

/*
 * model_event_buffer() - an eventq buffer arrived (unmask). @rd/@rdlen are
 * its readable bytes (le16 gpio). It may be returned at once through
 * ops.event_done, or held.
 */
void model_event_buffer(struct model *m, const uint8_t *rd, size_t rdlen,
			uint32_t token);

/* Host side. Return 0, or -1 on an invalid line. */
int model_set_level(struct model *m, uint32_t line, int level);
int model_set_fail(struct model *m, uint32_t line, bool on);
int model_set_hang(struct model *m, uint32_t line, bool on);
int model_loop_add(struct model *m, uint32_t a, uint32_t b);
int model_loop_del(struct model *m, uint32_t a, uint32_t b);
void model_reset_stats(struct model *m);

/* Would a level change @from -> @to on a line of @type make an event? */
bool model_edge_makes_event(uint8_t type, int from, int to);
/* The line holds a buffer and has nothing pending: an event is seen now. */
bool model_line_ready(const struct model *m, uint32_t line);

/* The eventq is gone (ring stopped): forget held buffers, latched events. */
void model_evq_reset(struct model *m);
/* The requestq is gone: forget held requests. */
void model_reqq_reset(struct model *m);
/* Device reset: every line back to no direction, value 0, no interrupt. */
void model_device_reset(struct model *m);

const char *model_dir_name(uint8_t dir);
const char *model_irq_name(uint8_t type);

#endif
