// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the simulator without QEMU: the GPIO model (every request
 * type, error paths, the event queue state machine) and the split ring code
 * against a fake ring in plain memory. Prints TAP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "vring.h"

static int passed, failed, cur_fail;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
		cur_fail++;						\
	}								\
} while (0)

static void run(const char *name, void (*fn)(void))
{
	cur_fail = 0;
	fn();
	if (cur_fail) {
		failed++;
		printf("not ok %d - %s\n", passed + failed, name);
	} else {
		passed++;
		printf("ok %d - %s\n", passed + failed, name);
	}
}

/* ---- model helpers ---- */

static struct {
	uint32_t token;
	uint8_t status;
	struct fault_act act;
} evs[64];
static int nev;
static struct { uint32_t token; uint8_t resp[2]; size_t len; } late[64];
static int nlate;

static void ev_cb(void *ctx, uint32_t token, uint8_t status,
		  const struct fault_act *act)
{
	(void)ctx;
	if (nev < 64) {
		evs[nev].token = token;
		evs[nev].status = status;
		evs[nev].act = *act;
	}
	nev++;
}

static void req_cb(void *ctx, uint32_t token, const uint8_t *resp, size_t len)
{
	(void)ctx;
	if (nlate < 64) {
		late[nlate].token = token;
		memcpy(late[nlate].resp, resp, len < 2 ? len : 2);
		late[nlate].len = len;
	}
	nlate++;
}

static struct model M;
static uint64_t fake_now;	/* the model's clock */

static uint64_t now_cb(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void mk(uint32_t n, bool irq)
{
	uint32_t len;
	uint8_t *names = model_default_names(n, &len);

	model_free(&M);
	model_init(&M, n, names, len, len);
	free(names);
	M.irq_negotiated = irq;
	M.ops.event_done = ev_cb;
	M.ops.req_done = req_cb;
	M.ops.now = now_cb;
	fake_now = 0;
	nev = 0;
	nlate = 0;
}

static uint8_t rv;	/* value of the last response */

/* One request with a 2-byte response: returns the status (or 0xff if held). */
static int req(uint16_t type, uint16_t gpio, uint32_t value)
{
	uint8_t rd[8] = {
		type & 0xff, type >> 8, gpio & 0xff, gpio >> 8,
		value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff,
		value >> 24,
	};
	uint8_t resp[2] = { 0xee, 0xee };
	int n = model_request(&M, rd, 8, resp, 2, 1000 + gpio, NULL);

	if (n == MODEL_HELD)
		return 0xff;
	if (n != 2)
		return 0xfe;
	rv = resp[1];
	return resp[0];
}

static void unmask(uint16_t gpio, uint32_t token)
{
	uint8_t rd[2] = { gpio & 0xff, gpio >> 8 };

	model_event_buffer(&M, rd, 2, 1, token);
}

/* A request with explicit sizes; *act gets the transport's fault. */
static int req_ex(uint16_t type, uint16_t gpio, uint32_t value, size_t rdlen,
		  uint8_t *resp, size_t cap, struct fault_act *act)
{
	uint8_t rd[8] = {
		type & 0xff, type >> 8, gpio & 0xff, gpio >> 8,
		value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff,
		value >> 24,
	};

	return model_request(&M, rd, rdlen, resp, cap, 1000 + gpio, act);
}

/* An input line with interrupt type @type. */
static void irq_line(uint16_t gpio, uint8_t type)
{
	req(VGPIO_REQ_SET_DIRECTION, gpio, VGPIO_DIR_IN);
	req(VGPIO_REQ_SET_IRQ_TYPE, gpio, type);
}

static void add_fault(const char *spec)
{
	struct fault f;
	char err[128];

	if (fault_parse(spec, M.nlines, &f, err, sizeof(err)) ||
	    !fault_add(&M.faults, &f)) {
		printf("#   cannot add fault %s: %s\n", spec, err);
		cur_fail++;
	}
}

/* ---- model tests ---- */

static void t_config(void)
{
	uint8_t c[8];

	mk(300, true);
	model_config(&M, c);
	CHECK(c[0] == (300 & 0xff) && c[1] == 1 && c[2] == 0 && c[3] == 0);
	CHECK(c[4] + (c[5] << 8) == (int)M.names_len && c[6] == 0 && c[7] == 0);
	model_free(&M);
	model_init(&M, 1, NULL, 0, 0xffffffffU);
	model_config(&M, c);
	CHECK(c[4] == 0xff && c[5] == 0xff && c[6] == 0xff && c[7] == 0xff);
}

static void t_names(void)
{
	uint8_t rd[8] = { 1, 0, 0, 0, 0, 0, 0, 0 }, resp[64];
	int n;

	mk(3, true);
	CHECK(M.names_len == 18);
	CHECK(!memcmp(M.names, "GPIO0\0GPIO1\0GPIO2\0", 18));
	CHECK(!strcmp(M.name_of[2], "GPIO2"));
	n = model_request(&M, rd, 8, resp, 19, 1, NULL);
	CHECK(n == 19 && resp[0] == VGPIO_STATUS_OK);
	CHECK(!memcmp(resp + 1, "GPIO0\0GPIO1\0GPIO2\0", 18));
	/* Too small a buffer: ERR, what fits is written. */
	n = model_request(&M, rd, 8, resp, 10, 1, NULL);
	CHECK(n == 10 && resp[0] == VGPIO_STATUS_ERR);
	/* Reported size differs from the block: ERR. */
	M.names_size = 30;
	n = model_request(&M, rd, 8, resp, 31, 1, NULL);
	CHECK(n == 19 && resp[0] == VGPIO_STATUS_ERR);
	/* No names at all. */
	model_free(&M);
	model_init(&M, 3, NULL, 0, 0);
	n = model_request(&M, rd, 8, resp, 8, 1, NULL);
	CHECK(n == 1 && resp[0] == VGPIO_STATUS_ERR);
	CHECK(!M.name_of[0]);
	/* Partly named block, non-printable bytes shown as '?'. */
	model_free(&M);
	model_init(&M, 4, (const uint8_t *)"a\0\0b\x01\0", 6, 6);
	CHECK(!strcmp(M.name_of[0], "a") && !M.name_of[1] &&
	      !strcmp(M.name_of[2], "b?") && !M.name_of[3]);
}

static void t_direction(void)
{
	mk(4, true);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0, 0) == 0 && rv == VGPIO_DIR_NONE);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_OUT) == 0);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0, 0) == 0 && rv == VGPIO_DIR_OUT);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN) == 0);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0, 0) == 0 && rv == VGPIO_DIR_IN);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, 3) == 1);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, 0x100) == 1);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0, 0) == 0 && rv == VGPIO_DIR_IN);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_NONE) == 0);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0, 0) == 0 && rv == VGPIO_DIR_NONE);
}

static void t_values(void)
{
	mk(4, true);
	/* No direction: GET_VALUE is an error, SET_VALUE is allowed. */
	CHECK(req(VGPIO_REQ_GET_VALUE, 1, 0) == 1);
	CHECK(req(VGPIO_REQ_SET_VALUE, 1, 1) == 0);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_OUT) == 0);
	CHECK(req(VGPIO_REQ_GET_VALUE, 1, 0) == 0 && rv == 1);
	CHECK(req(VGPIO_REQ_SET_VALUE, 1, 0) == 0);
	CHECK(req(VGPIO_REQ_GET_VALUE, 1, 0) == 0 && rv == 0);
	CHECK(req(VGPIO_REQ_SET_VALUE, 1, 2) == 1);
	/* Input: the host's level. */
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 2, VGPIO_DIR_IN) == 0);
	CHECK(req(VGPIO_REQ_GET_VALUE, 2, 0) == 0 && rv == 0);
	model_set_level(&M, 2, 1);
	CHECK(req(VGPIO_REQ_GET_VALUE, 2, 0) == 0 && rv == 1);
	CHECK(model_set_level(&M, 4, 1) == -1);
}

static void t_invalid(void)
{
	uint8_t rd[8] = { 2, 0, 0, 0, 0, 0, 0, 0 }, resp[2];
	uint16_t t;

	mk(4, true);
	for (t = 2; t <= 6; t++)
		CHECK(req(t, 4, 0) == 1);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0xffff, 0) == 1);
	CHECK(req(0, 0, 0) == 1);
	CHECK(req(7, 0, 0) == 1);
	CHECK(req(0xffff, 0, 0) == 1);
	/* Short request. */
	CHECK(model_request(&M, rd, 7, resp, 2, 1, NULL) == 2 && resp[0] == 1);
	/* Short response buffers. */
	CHECK(model_request(&M, rd, 8, resp, 1, 1, NULL) == 1 && resp[0] == 1);
	CHECK(model_request(&M, rd, 8, resp, 0, 1, NULL) == 0);
	CHECK(M.st.protocol_errors == 2);
	CHECK(M.st.errors == 12);
}

static void t_irq_type(void)
{
	mk(4, false);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING) == 1);
	M.irq_negotiated = true;
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, 5) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, 0x10) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, 0x101) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING) == 0);
	CHECK(M.lines[0].irq_type == VGPIO_IRQ_EDGE_RISING);
	/* Same type again is fine, another type needs NONE first. */
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_BOTH) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_BOTH) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 0);
	/* Output line. */
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_OUT) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_RISING) == 1);
	/* Level types, and --reject-level. */
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_LEVEL_HIGH) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_LEVEL_LOW) == 1);
	M.reject_level = true;
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 3, VGPIO_IRQ_LEVEL_LOW) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 3, VGPIO_IRQ_EDGE_FALLING) == 0);
}

static void t_unmask_not_enabled(void)
{
	mk(4, true);
	unmask(1, 7);
	CHECK(nev == 1 && evs[0].token == 7 &&
	      evs[0].status == VGPIO_EVENT_INVALID);
	CHECK(!M.lines[1].held);
	CHECK(M.lines[1].st.invalid == 1 && M.st.invalid == 1);
}

static void t_edge_latched(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING);
	/* Masked: the rising edge is latched, the falling one ignored. */
	model_set_level(&M, 0, 1);
	model_set_level(&M, 0, 0);
	CHECK(nev == 0 && M.lines[0].pending);
	CHECK(!model_line_ready(&M, 0));
	unmask(0, 3);
	CHECK(nev == 1 && evs[0].token == 3 && evs[0].status == VGPIO_EVENT_VALID);
	CHECK(!M.lines[0].pending && !M.lines[0].held);
	/* Unmasked: the event goes out at once. */
	unmask(0, 4);
	CHECK(nev == 1 && model_line_ready(&M, 0));
	model_set_level(&M, 0, 1);
	CHECK(nev == 2 && evs[1].token == 4 && evs[1].status == VGPIO_EVENT_VALID);
	CHECK(M.lines[0].st.events == 2 && M.st.events == 2);
}

static void t_edge_collapse(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_BOTH);
	model_set_level(&M, 0, 1);
	model_set_level(&M, 0, 0);
	model_set_level(&M, 0, 1);
	CHECK(M.st.collapsed == 2 && nev == 0);
	unmask(0, 1);
	CHECK(nev == 1 && evs[0].status == VGPIO_EVENT_VALID);
	unmask(0, 2);
	CHECK(nev == 1);
	model_set_level(&M, 0, 0);
	CHECK(nev == 2 && evs[1].token == 2);
	/* Falling only. */
	req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_FALLING);
	unmask(1, 9);
	model_set_level(&M, 1, 1);
	CHECK(nev == 2);
	model_set_level(&M, 1, 0);
	CHECK(nev == 3 && evs[2].token == 9);
}

static void t_level(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_LEVEL_HIGH);
	/* Nothing is latched while masked. */
	model_set_level(&M, 0, 1);
	model_set_level(&M, 0, 0);
	CHECK(!M.lines[0].pending);
	unmask(0, 1);
	CHECK(nev == 0);
	model_set_level(&M, 0, 1);
	CHECK(nev == 1 && evs[0].status == VGPIO_EVENT_VALID);
	/* Still active: the unmask notifies again at once. */
	unmask(0, 2);
	CHECK(nev == 2 && evs[1].token == 2 && evs[1].status == VGPIO_EVENT_VALID);
	model_set_level(&M, 0, 0);
	unmask(0, 3);
	CHECK(nev == 2 && M.lines[0].held);
	/* Level low. */
	req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_LEVEL_LOW);
	unmask(1, 4);
	CHECK(nev == 3 && evs[2].token == 4);
	model_set_level(&M, 1, 1);
	unmask(1, 5);
	CHECK(nev == 3);
	model_set_level(&M, 1, 0);
	CHECK(nev == 4 && evs[3].token == 5);
	CHECK(model_edge_makes_event(VGPIO_IRQ_LEVEL_LOW, 1, 0));
	CHECK(!model_edge_makes_event(VGPIO_IRQ_LEVEL_LOW, 0, 1));
	CHECK(model_edge_makes_event(VGPIO_IRQ_EDGE_BOTH, 0, 1));
	CHECK(!model_edge_makes_event(VGPIO_IRQ_EDGE_RISING, 1, 0));
}

static void t_type_none(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING);
	unmask(0, 5);
	CHECK(nev == 0 && M.lines[0].held);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 0);
	CHECK(nev == 1 && evs[0].token == 5 && evs[0].status == VGPIO_EVENT_INVALID);
	/* Latched events are discarded. */
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING);
	model_set_level(&M, 0, 1);
	CHECK(M.lines[0].pending);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE);
	CHECK(!M.lines[0].pending);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING);
	unmask(0, 6);
	CHECK(nev == 1);
}

static void t_one_buffer(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_EDGE_RISING);
	unmask(2, 1);
	unmask(2, 2);
	CHECK(nev == 1 && evs[0].token == 2 && evs[0].status == VGPIO_EVENT_INVALID);
	CHECK(M.st.protocol_errors == 1);
	CHECK(M.lines[2].held && M.lines[2].held_token == 1);
	model_set_level(&M, 2, 1);
	CHECK(nev == 2 && evs[1].token == 1 && evs[1].status == VGPIO_EVENT_VALID);
}

static void t_event_bad_gpio(void)
{
	uint8_t rd[2] = { 4, 0 };

	mk(4, true);
	model_event_buffer(&M, rd, 2, 1, 11);
	CHECK(nev == 1 && evs[0].token == 11 && evs[0].status == VGPIO_EVENT_INVALID);
	model_event_buffer(&M, rd, 1, 1, 12);
	CHECK(nev == 2 && evs[1].token == 12 && evs[1].status == VGPIO_EVENT_INVALID);
	CHECK(M.st.protocol_errors == 2);
}

static void t_dir_none_discards(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_VALUE, 0, 1);
	req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING);
	unmask(0, 8);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_NONE) == 0);
	CHECK(nev == 1 && evs[0].status == VGPIO_EVENT_INVALID);
	CHECK(M.lines[0].value == 0 && M.lines[0].irq_type == VGPIO_IRQ_NONE);
	CHECK(req(VGPIO_REQ_GET_VALUE, 0, 0) == 1);
}

static void t_fail_hang(void)
{
	mk(4, true);
	model_set_fail(&M, 1, true);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 1, 0) == 1);
	CHECK(M.lines[1].st.errors == 1 && M.lines[1].st.requests == 1);
	model_set_fail(&M, 1, false);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 1, 0) == 0);

	model_set_hang(&M, 2, true);
	CHECK(req(VGPIO_REQ_SET_VALUE, 2, 1) == 0xff);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 2, VGPIO_DIR_OUT) == 0xff);
	CHECK(req(VGPIO_REQ_GET_VALUE, 2, 0) == 0xff);
	/* Other lines keep working. */
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 3, VGPIO_DIR_OUT) == 0);
	CHECK(M.nheld == 3 && nlate == 0);
	CHECK(M.lines[2].dir == VGPIO_DIR_NONE);
	model_set_hang(&M, 2, false);
	CHECK(nlate == 3 && M.nheld == 0);
	CHECK(late[0].token == 1002 && late[0].resp[0] == 0 && late[0].len == 2);
	CHECK(late[2].resp[0] == 0 && late[2].resp[1] == 1);
	CHECK(M.lines[2].dir == VGPIO_DIR_OUT);
	/* Held requests vanish with the ring. */
	model_set_hang(&M, 2, true);
	req(VGPIO_REQ_GET_VALUE, 2, 0);
	model_reqq_reset(&M);
	CHECK(M.nheld == 0);
}

static void t_loops(void)
{
	mk(8, true);
	CHECK(model_loop_add(&M, 0, 5) == 0);
	/* Line 0 is not an output: line 5's level stays. */
	model_set_level(&M, 5, 1);
	req(VGPIO_REQ_SET_VALUE, 0, 0);
	CHECK(M.lines[5].level == 1);
	/* Becoming an output drives the level. */
	req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_OUT);
	CHECK(M.lines[5].level == 0);
	req(VGPIO_REQ_SET_DIRECTION, 5, VGPIO_DIR_IN);
	req(VGPIO_REQ_SET_IRQ_TYPE, 5, VGPIO_IRQ_EDGE_RISING);
	unmask(5, 42);
	req(VGPIO_REQ_SET_VALUE, 0, 1);
	CHECK(M.lines[5].level == 1);
	CHECK(nev == 1 && evs[0].token == 42 && evs[0].status == VGPIO_EVENT_VALID);
	CHECK(model_loop_del(&M, 0, 5) == 0);
	CHECK(model_loop_del(&M, 0, 5) == -1);
	req(VGPIO_REQ_SET_VALUE, 0, 0);
	CHECK(M.lines[5].level == 1);
	CHECK(model_loop_add(&M, 0, 8) == -1);
}

static void t_device_reset(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_VALUE, 1, 1);
	req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_OUT);
	req(VGPIO_REQ_SET_DIRECTION, 2, VGPIO_DIR_IN);
	req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_EDGE_BOTH);
	model_set_level(&M, 3, 1);
	model_device_reset(&M);
	CHECK(M.lines[1].dir == VGPIO_DIR_NONE && M.lines[1].value == 0);
	CHECK(M.lines[2].dir == VGPIO_DIR_NONE && M.lines[2].irq_type == VGPIO_IRQ_NONE);
	CHECK(M.lines[3].level == 1);
}

static void t_stats_reset(void)
{
	mk(4, true);
	req(VGPIO_REQ_GET_DIRECTION, 0, 0);
	req(VGPIO_REQ_GET_VALUE, 0, 0);
	CHECK(M.st.requests == 2 && M.st.errors == 1);
	CHECK(M.lines[0].st.requests == 2 && M.lines[0].st.errors == 1);
	req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_RISING);
	unmask(1, 1);
	model_evq_reset(&M);
	CHECK(!M.lines[1].held && nev == 0);
	model_reset_stats(&M);
	CHECK(M.st.requests == 0 && M.lines[0].st.requests == 0);
}

static void t_reset_keep(void)
{
	mk(4, true);
	CHECK(M.reset_keep);	/* the default */
	req(VGPIO_REQ_SET_VALUE, 1, 1);
	req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_OUT);
	irq_line(2, VGPIO_IRQ_EDGE_BOTH);
	irq_line(3, VGPIO_IRQ_EDGE_RISING);
	unmask(2, 20);
	model_set_level(&M, 3, 1);	/* latched on a masked line */
	/* Both rings stop; the transport resets nothing in keep mode. */
	model_evq_reset(&M);
	model_reqq_reset(&M);
	CHECK(M.lines[1].dir == VGPIO_DIR_OUT && M.lines[1].value == 1);
	CHECK(M.lines[2].irq_type == VGPIO_IRQ_EDGE_BOTH && !M.lines[2].held);
	CHECK(M.lines[2].stale && !M.lines[3].stale && M.lines[3].pending);
	CHECK(model_stale_count(&M) == 1 && nev == 0);
	/* A new buffer on the stale line: INVALID at once, no driver error. */
	unmask(2, 21);
	CHECK(nev == 1 && evs[0].token == 21 && evs[0].status == VGPIO_EVENT_INVALID);
	CHECK(M.st.protocol_errors == 0 && M.lines[2].stale);
	/* An edge on it is latched; the old buffer is never written. */
	model_set_level(&M, 2, 1);
	CHECK(nev == 1 && M.lines[2].pending);
	/* The latched edge of line 3 goes to its next buffer. */
	unmask(3, 30);
	CHECK(nev == 2 && evs[1].token == 30 && evs[1].status == VGPIO_EVENT_VALID);
	/* NONE forgets the stale buffer, then the line works again. */
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_NONE) == 0);
	CHECK(!M.lines[2].stale && nev == 2 && model_stale_count(&M) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_EDGE_BOTH) == 0);
	unmask(2, 22);
	CHECK(nev == 2 && M.lines[2].held);
	/* SET_DIRECTION NONE clears a stale line too. */
	model_evq_reset(&M);
	CHECK(M.lines[2].stale);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 2, VGPIO_DIR_NONE) == 0);
	CHECK(!M.lines[2].stale && nev == 2);
}

static void t_reset_forget(void)
{
	mk(4, true);
	M.reset_keep = false;
	irq_line(2, VGPIO_IRQ_EDGE_BOTH);
	irq_line(3, VGPIO_IRQ_EDGE_RISING);
	unmask(2, 20);
	model_set_level(&M, 3, 1);
	model_evq_reset(&M);
	CHECK(!M.lines[2].held && !M.lines[2].stale && !M.lines[3].pending);
	unmask(2, 21);
	CHECK(nev == 0 && M.lines[2].held);
	/* state-reset: the whole device, stale lines included. */
	M.reset_keep = true;
	model_evq_reset(&M);
	CHECK(M.lines[2].stale);
	req(VGPIO_REQ_SET_VALUE, 0, 1);
	model_device_reset(&M);
	CHECK(!M.lines[2].stale && M.lines[2].irq_type == VGPIO_IRQ_NONE);
	CHECK(!M.lines[0].value_set && M.lines[0].value == 0);
}

static void t_rules_rust_vmm(void)
{
	mk(4, true);
	M.rules = MODEL_RULES_RUST_VMM;
	/* OUT needs a value first, and again after NONE. */
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_OUT) == 1);
	CHECK(req(VGPIO_REQ_SET_VALUE, 0, 0) == 0);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_OUT) == 0);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_NONE) == 0);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_OUT) == 1);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN) == 0);
	/* IRQ types. */
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_NONE) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_RISING) == 1);
	CHECK(req(VGPIO_REQ_SET_VALUE, 1, 1) == 0);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_OUT) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_RISING) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, 0x10) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, 0x11) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_LEVEL_HIGH) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_LEVEL_LOW) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_BOTH) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_BOTH) == 0);
	/* Event buffers keep the spec behaviour. */
	unmask(0, 5);
	unmask(0, 6);
	unmask(2, 7);
	CHECK(nev == 2 && evs[0].token == 6 && evs[1].token == 7 &&
	      evs[0].status == VGPIO_EVENT_INVALID &&
	      evs[1].status == VGPIO_EVENT_INVALID);
	/* Back to the spec: the same type again is fine. */
	M.rules = MODEL_RULES_SPEC;
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_BOTH) == 0);
	/* --reject-level alone. */
	M.reject_level = true;
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 3, VGPIO_IRQ_LEVEL_HIGH) == 1);
}

static void t_rules_rust_vmm_sizes(void)
{
	uint8_t resp[64], rd[2] = { 0, 0 };
	int n;

	mk(4, true);
	M.rules = MODEL_RULES_RUST_VMM;
	/* Exactly 8 readable and 2 writable bytes. */
	n = req_ex(VGPIO_REQ_GET_DIRECTION, 0, 0, 9, resp, 2, NULL);
	CHECK(n == 2 && resp[0] == VGPIO_STATUS_ERR);
	n = req_ex(VGPIO_REQ_GET_DIRECTION, 0, 0, 8, resp, 3, NULL);
	CHECK(n == 2 && resp[0] == VGPIO_STATUS_ERR);
	n = req_ex(VGPIO_REQ_GET_DIRECTION, 0, 0, 8, resp, 2, NULL);
	CHECK(n == 2 && resp[0] == VGPIO_STATUS_OK);
	/* Names: exactly 1 + gpio_names_size. */
	n = req_ex(VGPIO_REQ_GET_LINE_NAMES, 0, 0, 8, resp, M.names_size + 2, NULL);
	CHECK(resp[0] == VGPIO_STATUS_ERR);
	n = req_ex(VGPIO_REQ_GET_LINE_NAMES, 0, 0, 8, resp, M.names_size + 1, NULL);
	CHECK(n == (int)M.names_size + 1 && resp[0] == VGPIO_STATUS_OK);
	CHECK(M.st.protocol_errors == 3);
	/* Event buffers: 2 readable, 1 writable. */
	irq_line(0, VGPIO_IRQ_EDGE_RISING);
	model_event_buffer(&M, rd, 2, 2, 40);
	model_event_buffer(&M, rd, 3, 1, 41);
	CHECK(nev == 2 && evs[0].status == VGPIO_EVENT_INVALID &&
	      evs[1].status == VGPIO_EVENT_INVALID && !M.lines[0].held);
	model_event_buffer(&M, rd, 2, 1, 42);
	CHECK(nev == 2 && M.lines[0].held);
	/* The spec takes larger buffers. */
	M.rules = MODEL_RULES_SPEC;
	n = req_ex(VGPIO_REQ_GET_DIRECTION, 0, 0, 9, resp, 3, NULL);
	CHECK(n == 2 && resp[0] == VGPIO_STATUS_OK);
}

static void t_rules_rust_vmm_dead(void)
{
	uint8_t resp[2];

	mk(4, true);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 4, 0) == 1 && !M.dead_queue);
	M.rules = MODEL_RULES_RUST_VMM;
	CHECK(req_ex(VGPIO_REQ_GET_DIRECTION, 4, 0, 8, resp, 2, NULL) == MODEL_DEAD);
	CHECK(M.dead_queue);
}

static void t_mock_values(void)
{
	mk(4, true);
	M.mock_values = true;
	req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN);
	model_set_level(&M, 0, 1);
	CHECK(req(VGPIO_REQ_GET_VALUE, 0, 0) == 1);
	CHECK(req(VGPIO_REQ_SET_VALUE, 0, 0) == 0);
	CHECK(req(VGPIO_REQ_GET_VALUE, 0, 0) == 0 && rv == 1);
	req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_NONE);
	req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_IN);
	CHECK(req(VGPIO_REQ_GET_VALUE, 0, 0) == 1);
	M.mock_values = false;
	CHECK(req(VGPIO_REQ_GET_VALUE, 0, 0) == 0 && rv == 1);
}

static void t_fault_parse(void)
{
	struct fault f;
	char err[128], buf[128];

	CHECK(!fault_parse("drop", 8, &f, err, sizeof(err)));
	CHECK(f.kind == FAULT_DROP && f.line == FAULT_LINE_ALL &&
	      f.msg == FMSG_ANY && f.count == FAULT_COUNT_ALWAYS);
	CHECK(!fault_parse("delay,line=3,req=get-value,count=2,arg=250", 8, &f,
			   err, sizeof(err)));
	CHECK(f.kind == FAULT_DELAY && f.line == 3 && f.msg == FMSG_GET_VALUE &&
	      f.count == 2 && f.arg == 250);
	f.id = 7;
	fault_format(&f, buf, sizeof(buf));
	CHECK(!strcmp(buf, "id=7 kind=delay line=3 req=get-value count=2 arg=250"));
	CHECK(!fault_parse("delay", 8, &f, err, sizeof(err)) && f.arg == 100);
	CHECK(!fault_parse("reorder", 8, &f, err, sizeof(err)) && f.arg == 2);
	CHECK(!fault_parse("status,arg=0x7f", 8, &f, err, sizeof(err)) &&
	      f.arg == 0x7f);
	CHECK(!fault_parse("storm,req=event,line=all", 8, &f, err, sizeof(err)));
	CHECK(!fault_parse("len-long,req=names", 8, &f, err, sizeof(err)));
	CHECK(!fault_parse("twice", 8, &f, err, sizeof(err)));
	/* Errors. */
	CHECK(fault_parse("frob", 8, &f, err, sizeof(err)) && strstr(err, "frob"));
	CHECK(fault_parse("", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("drop,line=8", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("drop,line=0", 0, &f, err, sizeof(err)));
	CHECK(fault_parse("drop,req=frob", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("drop,count=0", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("drop,what=1", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("status,req=event", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("value,req=names", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("storm,req=get-value", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("evstatus,req=set-dir", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("status,arg=256", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("reorder,arg=1", 8, &f, err, sizeof(err)));
	CHECK(fault_parse("delay,arg=-1", 8, &f, err, sizeof(err)));
}

static void t_fault_table(void)
{
	struct fault_table t = { .n = 0 };
	struct fault f;
	struct fault_act a;
	char err[64];

	fault_parse("drop,line=2,count=2", 4, &f, err, sizeof(err));
	CHECK(fault_add(&t, &f) == 1);
	fault_parse("status,req=get-dir,arg=9", 4, &f, err, sizeof(err));
	CHECK(fault_add(&t, &f) == 2);
	/* Line and class must match, and the kind must fit the point. */
	CHECK(!fault_take(&t, FP_REPLY, FMSG_SET_VALUE, 1, &a));
	CHECK(!fault_take(&t, FP_EVENT, FMSG_EVENT, 2, &a));
	CHECK(fault_take(&t, FP_REPLY, FMSG_GET_DIR, 1, &a) &&
	      a.kind == FAULT_STATUS && a.arg == 9);
	/* First match wins; count=2 retires after two. */
	CHECK(fault_take(&t, FP_REPLY, FMSG_GET_DIR, 2, &a) && a.kind == FAULT_DROP);
	CHECK(fault_take(&t, FP_REPLY, FMSG_EVENT, 2, &a) && a.kind == FAULT_DROP);
	CHECK(t.n == 1 && t.f[0].id == 2);
	CHECK(fault_take(&t, FP_REPLY, FMSG_GET_DIR, 2, &a) && a.kind == FAULT_STATUS);
	CHECK(!fault_take(&t, FP_REPLY, FMSG_EVENT, 2, &a));
	CHECK(fault_clear(&t, 1) == -1 && fault_clear(&t, 2) == 0 && t.n == 0);
	while (fault_add(&t, &f))
		;
	CHECK(t.n == FAULT_MAX);
	CHECK(fault_clear(&t, 0) == 0 && t.n == 0);
}

static void t_fault_requests(void)
{
	struct fault_act a;
	uint8_t resp[64];
	int n;

	mk(4, true);
	add_fault("status,req=set-value,count=1,arg=0x7f");
	add_fault("value,req=get-value,line=1,arg=200");
	add_fault("delay,req=get-dir,arg=30");
	add_fault("len-zero,req=names");
	/* Status: another byte, the request still executed. */
	n = req_ex(VGPIO_REQ_SET_VALUE, 1, 1, 8, resp, 2, &a);
	CHECK(n == 2 && resp[0] == 0x7f && M.lines[1].value == 1);
	CHECK(a.kind == FAULT_STATUS);
	n = req_ex(VGPIO_REQ_SET_VALUE, 1, 0, 8, resp, 2, &a);
	CHECK(n == 2 && resp[0] == 0 && a.kind == FAULT_NONE);
	req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_OUT);
	n = req_ex(VGPIO_REQ_GET_VALUE, 1, 0, 8, resp, 2, &a);
	CHECK(n == 2 && resp[0] == 0 && resp[1] == 200);
	n = req_ex(VGPIO_REQ_GET_VALUE, 0, 0, 8, resp, 2, &a);
	CHECK(resp[1] == 0 && a.kind == FAULT_NONE);
	/* Transport faults come back to the caller. */
	n = req_ex(VGPIO_REQ_GET_DIRECTION, 1, 0, 8, resp, 2, &a);
	CHECK(n == 2 && resp[1] == VGPIO_DIR_OUT && a.kind == FAULT_DELAY &&
	      a.arg == 30);
	n = req_ex(VGPIO_REQ_GET_LINE_NAMES, 0, 0, 8, resp, sizeof(resp), &a);
	CHECK(resp[0] == 0 && a.kind == FAULT_LEN_ZERO);
	CHECK(M.st.faults == 4 && M.faults.n == 3);
}

static void t_fault_events(void)
{
	mk(4, true);
	irq_line(0, VGPIO_IRQ_EDGE_RISING);
	irq_line(1, VGPIO_IRQ_EDGE_RISING);
	/* wrong-line: line 0's edge goes back on line 1's buffer. */
	add_fault("wrong-line,line=0,count=1");
	unmask(0, 10);
	unmask(1, 11);
	model_set_level(&M, 0, 1);
	CHECK(nev == 1 && evs[0].token == 11 && evs[0].status == VGPIO_EVENT_VALID);
	CHECK(M.lines[0].held && !M.lines[1].held);
	CHECK(M.lines[1].st.events == 1 && M.lines[0].st.events == 0);
	model_set_level(&M, 0, 0);
	model_set_level(&M, 0, 1);
	CHECK(nev == 2 && evs[1].token == 10);
	/* Without another held buffer there is nothing to swap. */
	add_fault("wrong-line,line=0");
	unmask(0, 12);
	model_set_level(&M, 0, 0);
	model_set_level(&M, 0, 1);
	CHECK(nev == 3 && evs[2].token == 12);
	fault_clear(&M.faults, 0);
	/* no-type: VALID for a line of type NONE. */
	add_fault("no-type,line=2,count=1");
	unmask(2, 20);
	unmask(2, 21);
	CHECK(nev == 5 && evs[3].status == VGPIO_EVENT_VALID &&
	      evs[4].status == VGPIO_EVENT_INVALID);
	/* evstatus and twice. */
	add_fault("evstatus,arg=0x42,count=1");
	add_fault("twice,count=1");
	unmask(1, 30);
	model_set_level(&M, 1, 0);
	model_set_level(&M, 1, 1);
	CHECK(nev == 6 && evs[5].token == 30 && evs[5].status == 0x42);
	unmask(1, 31);
	model_set_level(&M, 1, 0);
	model_set_level(&M, 1, 1);
	CHECK(nev == 7 && evs[6].status == VGPIO_EVENT_VALID &&
	      evs[6].act.kind == FAULT_TWICE);
	CHECK(M.st.faults == 4);
}

static void t_fault_storm(void)
{
	int i;

	mk(4, true);
	irq_line(0, VGPIO_IRQ_EDGE_BOTH);
	add_fault("storm,line=0");
	for (i = 0; i < 5; i++)
		unmask(0, 50 + i);
	CHECK(nev == 5 && M.st.storm == 5 && M.st.events == 5);
	for (i = 0; i < 5; i++)
		CHECK(evs[i].token == 50 + (uint32_t)i &&
		      evs[i].status == VGPIO_EVENT_VALID);
	/* Not on a line of type NONE, nor on another line. */
	unmask(1, 60);
	CHECK(nev == 6 && evs[5].status == VGPIO_EVENT_INVALID);
	irq_line(2, VGPIO_IRQ_EDGE_BOTH);
	unmask(2, 61);
	CHECK(nev == 6 && M.lines[2].held && M.st.storm == 5);
}

static void t_fuzz_decide(void)
{
	unsigned int k, faults = 0, kinds[FAULT_NKINDS] = { 0 };
	int msg;

	for (k = 0; k < 1000; k++) {
		struct fault_act a = fuzz_decide(42, 10, k, FMSG_GET_VALUE);
		struct fault_act b = fuzz_decide(42, 10, k, FMSG_GET_VALUE);

		CHECK(a.kind == b.kind && a.arg == b.arg);
		CHECK(fuzz_decide(42, 0, k, FMSG_EVENT).kind == FAULT_NONE);
		CHECK(fuzz_decide(42, 100, k, FMSG_EVENT).kind != FAULT_NONE);
		if (a.kind != FAULT_NONE)
			faults++;
	}
	/* About 10%. */
	CHECK(faults > 50 && faults < 150);
	for (msg = 0; msg < FMSG_NMSG; msg++) {
		for (k = 0; k < 2000; k++) {
			struct fault_act a = fuzz_decide(7, 100, k, msg);
			bool fits = fault_kind_applies(a.kind, FP_REPLY, msg) ||
				    fault_kind_applies(a.kind, FP_UNMASK_NONE, msg) ||
				    fault_kind_applies(a.kind, FP_UNMASK_ENABLED, msg) ||
				    fault_kind_applies(a.kind, FP_EVENT, msg);

			CHECK(fits);
			kinds[a.kind]++;
			if (a.kind == FAULT_DELAY)
				CHECK(a.arg >= 1 && a.arg <= FUZZ_DELAY_MAX_MS);
			if (a.kind == FAULT_VALUE)
				CHECK(a.arg >= (msg == FMSG_GET_DIR ? 3U : 2U) &&
				      a.arg <= 255);
			if (a.kind == FAULT_STATUS || a.kind == FAULT_EVSTATUS)
				CHECK(a.arg >= 2 && a.arg <= 255);
			if (a.kind == FAULT_STORM)
				CHECK(a.arg >= 2 && a.arg <= FUZZ_STORM_MAX);
		}
	}
	/* Every kind the fuzzer may use shows up. */
	for (k = FAULT_DROP; k < FAULT_NKINDS; k++)
		CHECK(kinds[k] > 0);
	/* Other seeds, other decisions. */
	for (k = 0, faults = 0; k < 100; k++)
		if (fuzz_decide(1, 50, k, FMSG_EVENT).kind !=
		    fuzz_decide(2, 50, k, FMSG_EVENT).kind)
			faults++;
	CHECK(faults > 10);
}

/* A fixed mix of requests and events; a digest of what came back. */
static uint64_t fuzz_run(uint64_t seed)
{
	uint64_t h = 1469598103934665603ULL;
	struct fault_act a;
	uint8_t resp[64];
	int i, j;

	mk(4, true);
	fuzz_start(&M.fz, seed, 30);
	irq_line(0, VGPIO_IRQ_EDGE_BOTH);
	irq_line(1, VGPIO_IRQ_EDGE_BOTH);
	for (i = 0; i < 200; i++) {
		int n = req_ex((uint16_t)(2 + i % 5), (uint16_t)(i % 4), (uint32_t)(i % 2),
			       8, resp, 2, &a);

		for (j = 0; j < n; j++)
			h = (h ^ resp[j]) * 1099511628211ULL;
		h = (h ^ a.kind ^ ((uint64_t)a.arg << 8)) * 1099511628211ULL;
		unmask((uint16_t)(i % 2), (uint32_t)i);
		model_set_level(&M, (uint32_t)(i % 2), i & 2);
	}
	for (i = 0; i < nev && i < 64; i++)
		h = (h ^ evs[i].token ^ ((uint64_t)evs[i].status << 32) ^
		     ((uint64_t)evs[i].act.kind << 40)) * 1099511628211ULL;
	return h ^ (uint64_t)nev ^ M.fz.faults << 20;
}

static void t_fuzz_replay(void)
{
	uint64_t a = fuzz_run(1234), fa = M.fz.faults;
	uint64_t b = fuzz_run(1234), fb = M.fz.faults;
	uint64_t c = fuzz_run(99);

	CHECK(a == b && fa == fb && fa > 0);
	CHECK(M.fz.nreq == 204 && M.fz.nev == 200);
	CHECK(a != c);
	CHECK(M.st.faults == M.fz.faults);
}

static void t_names_faults(void)
{
	enum names_fault k;
	uint32_t len, size;
	uint8_t *b;

	CHECK(!names_fault_parse("no-nul", &k, &size) && k == NAMES_FAULT_NO_NUL);
	CHECK(!names_fault_parse("padded", &k, &size) && k == NAMES_FAULT_PADDED &&
	      size == 65536);
	CHECK(!names_fault_parse("padded:100", &k, &size) && size == 100);
	CHECK(names_fault_parse("padded:", &k, &size) && names_fault_parse("x", &k, &size));
	b = names_fault_block(NAMES_FAULT_NO_NUL, 3, 0, &len);
	CHECK(len == 17 && !memcmp(b, "GPIO0\0GPIO1\0GPIO2", 17));
	free(b);
	b = names_fault_block(NAMES_FAULT_FEWER, 4, 0, &len);
	CHECK(len == 12 && !memcmp(b, "GPIO0\0GPIO1\0", 12));
	free(b);
	b = names_fault_block(NAMES_FAULT_DUP, 4, 0, &len);
	CHECK(len == 24 && !memcmp(b, "GPIO0\0GPIO0\0GPIO2\0GPIO2\0", 24));
	free(b);
	b = names_fault_block(NAMES_FAULT_NON_ASCII, 2, 0, &len);
	CHECK(len == 20 && b[6] >= 0x80 && b[7] >= 0x80 && b[8] == 0xff && !b[9]);
	free(b);
	b = names_fault_block(NAMES_FAULT_PADDED, 8, 65536, &len);
	CHECK(len == 65536 && !memcmp(b, "GPIO0\0", 6) && !b[48] && !b[65535]);
	/* The model takes it: eight names, then padding. */
	model_free(&M);
	model_init(&M, 8, b, len, len);
	CHECK(!strcmp(M.name_of[7], "GPIO7") && M.names_size == 65536);
	free(b);
	CHECK(!names_fault_block(NAMES_FAULT_PADDED, 8, 10, &len));
}

static void t_edge_outcomes(void)
{
	mk(4, true);
	CHECK(model_set_level(&M, 0, 1) == MODEL_EDGE_NONE);
	irq_line(1, VGPIO_IRQ_EDGE_RISING);
	unmask(1, 1);
	CHECK(model_set_level(&M, 1, 1) == MODEL_EDGE_SENT);
	CHECK(model_set_level(&M, 1, 0) == MODEL_EDGE_NONE);
	CHECK(model_set_level(&M, 1, 1) == MODEL_EDGE_LATCHED);
	model_set_level(&M, 1, 0);
	CHECK(model_set_level(&M, 1, 1) == MODEL_EDGE_COLLAPSED);
	irq_line(2, VGPIO_IRQ_LEVEL_HIGH);
	CHECK(model_set_level(&M, 2, 1) == MODEL_EDGE_LOST);
	CHECK(model_set_level(&M, 2, 1) == MODEL_EDGE_NONE);
}

static void t_edge_times(void)
{
	uint64_t t[MODEL_EDGETIMES];
	uint32_t i;

	mk(4, true);
	irq_line(0, VGPIO_IRQ_EDGE_BOTH);
	unmask(0, 1);
	fake_now = 1000;
	model_set_level(&M, 0, 1);		/* sent at once */
	fake_now = 2000;
	model_set_level(&M, 0, 0);		/* latched */
	fake_now = 2500;
	model_set_level(&M, 0, 1);		/* collapsed */
	fake_now = 3000;
	unmask(0, 2);				/* the latched edge: 2000 */
	CHECK(model_edgetimes(&M, 0, t, MODEL_EDGETIMES) == 2);
	CHECK(t[0] == 1000 && t[1] == 2000);
	/* Level: the time it became active. */
	irq_line(1, VGPIO_IRQ_LEVEL_HIGH);
	fake_now = 4000;
	model_set_level(&M, 1, 1);
	fake_now = 5000;
	unmask(1, 3);
	CHECK(model_edgetimes(&M, 1, t, 4) == 1 && t[0] == 4000);
	/* The newest 4096 stay. */
	for (i = 0; i < MODEL_EDGETIMES + 10; i++) {
		fake_now = 10000 + i;
		unmask(0, 4);
		model_set_level(&M, 0, !M.lines[0].level);
	}
	CHECK(model_edgetimes(&M, 0, t, MODEL_EDGETIMES) == MODEL_EDGETIMES);
	CHECK(t[0] == 10000 + 10 && t[MODEL_EDGETIMES - 1] == 10000 + MODEL_EDGETIMES + 9);
	CHECK(model_edgetimes(&M, 0, t, 3) == 3 && t[2] == 10000 + MODEL_EDGETIMES + 9);
	model_reset_stats(&M);
	CHECK(model_edgetimes(&M, 0, t, MODEL_EDGETIMES) == 0);
}

static void t_zero_lines(void)
{
	uint8_t c[8], rd[2] = { 0, 0 };

	model_free(&M);
	CHECK(model_init(&M, 0, NULL, 0, 0) == 0);
	M.ops.event_done = ev_cb;
	nev = 0;
	model_config(&M, c);
	CHECK(c[0] == 0 && c[1] == 0);
	CHECK(req(VGPIO_REQ_GET_DIRECTION, 0, 0) == 1);
	model_event_buffer(&M, rd, 2, 1, 5);
	CHECK(nev == 1 && evs[0].status == VGPIO_EVENT_INVALID);
	CHECK(model_set_level(&M, 0, 1) == -1 && model_stale_count(&M) == 0);
}

/* ---- fake ring ---- */

#define MEM_BASE	0x100000ULL
#define MEM_SIZE	0x10000
#define QNUM		8

static uint8_t mem[MEM_SIZE] __attribute__((aligned(16)));
static struct vring VR;
static uint16_t drv_avail;	/* driver's avail idx */
static uint16_t next_free;

static void *fake_xlate(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	if (gpa < MEM_BASE || gpa - MEM_BASE > MEM_SIZE ||
	    len > MEM_SIZE - (gpa - MEM_BASE))
		return NULL;
	return mem + (gpa - MEM_BASE);
}

static void ring_setup(bool event_idx, bool indirect)
{
	memset(mem, 0, sizeof(mem));
	memset(&VR, 0, sizeof(VR));
	VR.num = QNUM;
	VR.desc = (struct vring_desc *)mem;
	VR.avail = (struct vring_avail *)(mem + 0x1000);
	VR.used = (struct vring_used *)(mem + 0x2000);
	VR.event_idx = event_idx;
	VR.indirect = indirect;
	VR.xlate = fake_xlate;
	drv_avail = 0;
	next_free = 0;
}

static void set_desc(struct vring_desc *d, uint64_t off, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = MEM_BASE + off;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void publish(uint16_t head)
{
	VR.avail->ring[drv_avail % QNUM] = head;
	drv_avail++;
	VR.avail->idx = drv_avail;
}

/* A request-like chain: 8 readable bytes at 0x4000, 2 writable at 0x4100. */
static uint16_t add_simple(void)
{
	uint16_t h = next_free % QNUM, n = (next_free + 1) % QNUM;

	set_desc(&VR.desc[h], 0x4000, 8, VRING_DESC_F_NEXT, n);
	set_desc(&VR.desc[n], 0x4100, 2, VRING_DESC_F_WRITE, 0);
	next_free += 2;
	publish(h);
	return h;
}

static void t_ring_chain(void)
{
	struct vring_chain ch;
	const char *err = NULL;
	uint8_t buf[8];
	uint16_t h;

	ring_setup(false, false);
	CHECK(vring_pop(&VR, &ch, &err) == 0);
	memcpy(mem + 0x4000, "ABCDEFGH", 8);
	h = add_simple();
	CHECK(vring_avail_count(&VR) == 1);
	CHECK(vring_pop(&VR, &ch, &err) == 1);
	CHECK(ch.head == h && ch.nr == 1 && ch.nw == 1 && ch.rlen == 8 && ch.wlen == 2);
	CHECK(vring_read(&ch, buf, 8) == 8 && !memcmp(buf, "ABCDEFGH", 8));
	CHECK(vring_write(&ch, "\x01\x02\x03", 3) == 2);
	CHECK(mem[0x4100] == 1 && mem[0x4101] == 2);
	vring_push(&VR, ch.head, 2);
	CHECK(VR.used->idx == 1 && VR.used->ring[0].id == h && VR.used->ring[0].len == 2);
	CHECK(vring_should_notify(&VR));
	CHECK(!vring_should_notify(&VR));	/* nothing new */
	VR.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	add_simple();
	CHECK(vring_pop(&VR, &ch, &err) == 1);
	vring_push(&VR, ch.head, 2);
	CHECK(!vring_should_notify(&VR));
}

static void t_ring_scatter(void)
{
	struct vring_chain ch;
	const char *err = NULL;
	uint8_t buf[8];

	ring_setup(false, false);
	memcpy(mem + 0x4000, "AB", 2);
	memcpy(mem + 0x4010, "CDEFGH", 6);
	set_desc(&VR.desc[3], 0x4000, 2, VRING_DESC_F_NEXT, 6);
	set_desc(&VR.desc[6], 0x4010, 6, VRING_DESC_F_NEXT, 1);
	set_desc(&VR.desc[1], 0x4100, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	set_desc(&VR.desc[0], 0x4200, 1, VRING_DESC_F_WRITE, 0);
	publish(3);
	CHECK(vring_pop(&VR, &ch, &err) == 1);
	CHECK(ch.head == 3 && ch.nr == 2 && ch.nw == 2);
	CHECK(vring_read(&ch, buf, 8) == 8 && !memcmp(buf, "ABCDEFGH", 8));
	CHECK(vring_write(&ch, "xy", 2) == 2);
	CHECK(mem[0x4100] == 'x' && mem[0x4200] == 'y');
}

static void t_ring_indirect(void)
{
	struct vring_desc *tab = (struct vring_desc *)(mem + 0x3000);
	struct vring_chain ch;
	const char *err = NULL;
	uint8_t buf[8];

	ring_setup(false, true);
	memcpy(mem + 0x4000, "12345678", 8);
	set_desc(&tab[0], 0x4000, 4, VRING_DESC_F_NEXT, 2);
	set_desc(&tab[2], 0x4004, 4, VRING_DESC_F_NEXT, 1);
	set_desc(&tab[1], 0x4100, 2, VRING_DESC_F_WRITE, 0);
	set_desc(&VR.desc[5], 0x3000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(5);
	CHECK(vring_pop(&VR, &ch, &err) == 1);
	CHECK(ch.head == 5 && ch.nr == 2 && ch.nw == 1 && ch.rlen == 8);
	CHECK(vring_read(&ch, buf, 8) == 8 && !memcmp(buf, "12345678", 8));

	/* Not negotiated: an error. */
	VR.indirect = false;
	publish(5);
	CHECK(vring_pop(&VR, &ch, &err) == -1 && err);
	/* Bad table length, nested indirect, loop inside the table. */
	VR.indirect = true;
	ring_setup(false, true);
	set_desc(&VR.desc[0], 0x3000, 20, VRING_DESC_F_INDIRECT, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
	set_desc(&VR.desc[0], 0x3000, 32, VRING_DESC_F_INDIRECT, 0);
	set_desc(&tab[0], 0x3000, 16, VRING_DESC_F_INDIRECT, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
	set_desc(&tab[0], 0x4000, 4, VRING_DESC_F_NEXT, 1);
	set_desc(&tab[1], 0x4000, 4, VRING_DESC_F_NEXT, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1 && strstr(err, "loop"));
	set_desc(&VR.desc[0], MEM_BASE + MEM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
}

static void t_ring_errors(void)
{
	struct vring_chain ch;
	const char *err = NULL;

	/* Descriptor loop. */
	ring_setup(false, false);
	set_desc(&VR.desc[0], 0x4000, 8, VRING_DESC_F_NEXT, 1);
	set_desc(&VR.desc[1], 0x4000, 8, VRING_DESC_F_NEXT, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1 && strstr(err, "loop"));
	/* Outside guest memory. */
	ring_setup(false, false);
	set_desc(&VR.desc[0], MEM_SIZE - 4, 8, 0, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1 && strstr(err, "outside"));
	ring_setup(false, false);
	VR.desc[0].addr = 0;
	VR.desc[0].len = 2;
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
	/* next out of range, head out of range. */
	ring_setup(false, false);
	set_desc(&VR.desc[0], 0x4000, 8, VRING_DESC_F_NEXT, QNUM);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
	ring_setup(false, false);
	publish(QNUM);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
	/* Readable after writable. */
	ring_setup(false, false);
	set_desc(&VR.desc[0], 0x4000, 2, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(&VR.desc[1], 0x4000, 8, 0, 0);
	publish(0);
	CHECK(vring_pop(&VR, &ch, &err) == -1);
	/* The avail index jumps by more than the ring. */
	ring_setup(false, false);
	VR.avail->idx = QNUM + 1;
	CHECK(vring_pop(&VR, &ch, &err) == -1);
}

static void t_ring_wrap(void)
{
	struct vring_chain ch;
	const char *err = NULL;
	int i, got = 0;

	ring_setup(false, false);
	drv_avail = 65530;
	VR.avail->idx = 65530;
	VR.last_avail = 65530;
	VR.used_idx = 65531;
	VR.used->idx = 65531;
	for (i = 0; i < 12; i++) {
		int k;

		add_simple();
		add_simple();
		for (k = 0; k < 2; k++) {
			CHECK(vring_pop(&VR, &ch, &err) == 1);
			vring_push(&VR, ch.head, 2);
			got++;
		}
	}
	CHECK(got == 24);
	CHECK(VR.last_avail == (uint16_t)(65530 + 24));
	CHECK(VR.used->idx == (uint16_t)(65531 + 24));
	CHECK(vring_pop(&VR, &ch, &err) == 0);
}

static void t_ring_event_idx(void)
{
	struct vring_chain ch;
	const char *err = NULL;
	uint16_t *used_event = &VR.avail->ring[QNUM];
	uint16_t *avail_event;
	int i;

	ring_setup(true, false);
	used_event = &VR.avail->ring[QNUM];
	avail_event = (uint16_t *)&VR.used->ring[QNUM];
	add_simple();
	add_simple();
	CHECK(vring_pop(&VR, &ch, &err) == 1);
	CHECK(vring_pop(&VR, &ch, &err) == 1);
	CHECK(!vring_enable_kick(&VR));
	CHECK(*avail_event == 2);
	add_simple();
	CHECK(vring_enable_kick(&VR));	/* arrived meanwhile */
	/* First check always notifies. */
	vring_push(&VR, 0, 2);
	CHECK(vring_should_notify(&VR));
	/* The driver wants a call only when used passes 3. */
	*used_event = 3;
	vring_push(&VR, 0, 2);		/* used 2 */
	CHECK(!vring_should_notify(&VR));
	vring_push(&VR, 0, 2);		/* used 3 */
	CHECK(!vring_should_notify(&VR));
	vring_push(&VR, 0, 2);		/* used 4: crosses event 3 */
	CHECK(vring_should_notify(&VR));
	/* Across the 16-bit wrap. */
	VR.used_idx = 65534;
	VR.signalled_used = 65534;
	*used_event = 65535;
	for (i = 0; i < 3; i++)
		vring_push(&VR, 0, 2);	/* 65535, 0, 1 */
	CHECK(vring_should_notify(&VR));
	*used_event = 5;
	vring_push(&VR, 0, 2);
	CHECK(!vring_should_notify(&VR));
	/* A buffer returned twice: both elements under one index update. */
	VR.used_idx = 5;
	vring_push_n(&VR, 1, 4, 2);
	CHECK(VR.used->idx == 7);
	CHECK(VR.used->ring[5].id == 1 && VR.used->ring[6].id == 1);
	CHECK(VR.used->ring[5].len == 4 && VR.used->ring[6].len == 4);
}

static void t_edge_counters(void)
{
	mk(4, true);
	irq_line(1, VGPIO_IRQ_EDGE_RISING);
	unmask(1, 1);
	model_set_level(&M, 1, 1);		/* sent */
	model_set_level(&M, 1, 0);
	model_set_level(&M, 1, 1);		/* latched */
	model_set_level(&M, 1, 0);
	model_set_level(&M, 1, 1);		/* collapsed */
	model_set_level(&M, 1, 0);
	CHECK(M.lines[1].st.edges == 3 && M.lines[1].st.latched == 1 &&
	      M.lines[1].st.collapsed == 1 && M.st.collapsed == 1);
	CHECK(model_line_kept(&M, 1) == 1 && !model_line_ready(&M, 1));
	unmask(1, 2);
	CHECK(M.lines[1].st.events == 2 && model_line_kept(&M, 1) == 0);
	/* edges = events + collapsed once nothing is kept. */
	CHECK(M.lines[1].st.edges == M.lines[1].st.events + M.lines[1].st.collapsed);
	model_reset_stats(&M);
	CHECK(!M.lines[1].st.edges && !M.lines[1].st.latched && !M.lines[1].st.collapsed);
}

static void t_fifo_events(void)
{
	uint64_t t[MODEL_EDGETIMES];
	int i, k;

	mk(4, true);
	model_set_behaviour(&M, MODEL_BEHAVIOUR_FIFO);
	irq_line(0, VGPIO_IRQ_EDGE_BOTH);
	unmask(0, 1);
	fake_now = 100;
	CHECK(model_set_level(&M, 0, 1) == MODEL_EDGE_SENT);
	/* Masked: every edge is queued, none collapses. */
	for (i = 0; i < 3; i++) {
		fake_now = 200 + 100 * (uint64_t)i;
		CHECK(model_set_level(&M, 0, i % 2 ? 1 : 0) == MODEL_EDGE_LATCHED);
	}
	CHECK(model_line_kept(&M, 0) == 3 && !model_line_ready(&M, 0));
	/* One event per buffer, at once, oldest first. */
	for (k = 0; k < 3; k++) {
		unmask(0, (uint32_t)(10 + k));
		CHECK(nev == 2 + k && evs[1 + k].token == (uint32_t)(10 + k) &&
		      evs[1 + k].status == VGPIO_EVENT_VALID);
	}
	CHECK(model_line_kept(&M, 0) == 0 && nev == 4);
	CHECK(model_edgetimes(&M, 0, t, 8) == 4 && t[0] == 100 && t[1] == 200 &&
	      t[2] == 300 && t[3] == 400);
	unmask(0, 20);
	CHECK(nev == 4 && M.lines[0].held && model_line_ready(&M, 0));
	/* A full FIFO drops its oldest edge: counted as collapsed. */
	model_set_level(&M, 0, 1);		/* sent, buffer 20 */
	for (i = 0; i < MODEL_FIFO_DEPTH + 4; i++) {
		fake_now = 1000 + (uint64_t)i;
		k = model_set_level(&M, 0, i % 2 ? 1 : 0);
		CHECK(k == (i < MODEL_FIFO_DEPTH ? MODEL_EDGE_LATCHED : MODEL_EDGE_COLLAPSED));
	}
	CHECK(model_line_kept(&M, 0) == MODEL_FIFO_DEPTH);
	CHECK(M.lines[0].st.collapsed == 4 && M.st.collapsed == 4);
	unmask(0, 21);
	CHECK(model_edgetimes(&M, 0, t, MODEL_EDGETIMES) == 6 && t[5] == 1004);
	for (k = 0; k < MODEL_FIFO_DEPTH - 1; k++)
		unmask(0, 30);
	CHECK(model_line_kept(&M, 0) == 0);
	CHECK(M.lines[0].st.edges == M.lines[0].st.events + M.lines[0].st.collapsed);
	CHECK(M.lines[0].st.edges == 25 && M.lines[0].st.latched == 19);
	/* Edges of the other direction make nothing on a rising line. */
	irq_line(1, VGPIO_IRQ_EDGE_RISING);
	model_set_level(&M, 1, 1);
	model_set_level(&M, 1, 0);
	CHECK(model_line_kept(&M, 1) == 1);
	/* A switch back to latch forgets what is queued. */
	model_set_behaviour(&M, MODEL_BEHAVIOUR_LATCH);
	CHECK(model_line_kept(&M, 1) == 0 && !M.lines[1].pending);
}

static void t_fifo_none(void)
{
	int n;

	mk(4, true);
	model_set_behaviour(&M, MODEL_BEHAVIOUR_FIFO);
	irq_line(0, VGPIO_IRQ_EDGE_RISING);
	model_set_level(&M, 0, 1);		/* queued ... */
	model_set_level(&M, 0, 0);
	unmask(0, 1);				/* ... and sent */
	unmask(0, 2);
	CHECK(nev == 1 && M.lines[0].held);
	/* NONE: the held buffer stays with the device. */
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE) == 0);
	CHECK(nev == 1 && M.lines[0].held && M.lines[0].orphan);
	CHECK(!model_line_ready(&M, 0));
	/* A new buffer goes back at once, no protocol error. */
	unmask(0, 3);
	CHECK(nev == 2 && evs[1].token == 3 && evs[1].status == VGPIO_EVENT_INVALID);
	CHECK(M.st.protocol_errors == 0);
	/* The next rising edge gives it back INVALID, and makes no event. */
	model_set_level(&M, 0, 1);
	model_set_level(&M, 0, 0);
	CHECK(nev == 3 && evs[2].token == 2 && evs[2].status == VGPIO_EVENT_INVALID);
	CHECK(!M.lines[0].held && !M.lines[0].orphan && M.lines[0].st.events == 1);
	/* Enabled again while the buffer is held across NONE: it serves. */
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_RISING);
	unmask(0, 4);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE);
	model_set_level(&M, 0, 0);		/* falling: not its edge */
	CHECK(nev == 3 && M.lines[0].orphan);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_EDGE_FALLING);
	CHECK(!M.lines[0].orphan && M.lines[0].held);
	model_set_level(&M, 0, 1);
	model_set_level(&M, 0, 0);
	CHECK(nev == 4 && evs[3].token == 4 && evs[3].status == VGPIO_EVENT_VALID);
	/* Edges while NONE are not kept; direction NONE returns at once. */
	unmask(0, 5);
	req(VGPIO_REQ_SET_IRQ_TYPE, 0, VGPIO_IRQ_NONE);
	model_set_level(&M, 0, 1);
	CHECK(model_line_kept(&M, 0) == 0 && M.lines[0].orphan && nev == 4);
	CHECK(req(VGPIO_REQ_SET_DIRECTION, 0, VGPIO_DIR_NONE) == 0);
	CHECK(nev == 5 && evs[4].token == 5 && evs[4].status == VGPIO_EVENT_INVALID);
	CHECK(!M.lines[0].held && !M.lines[0].orphan);
	/* A keep-mode reset makes the held buffer stale, not orphan. */
	irq_line(1, VGPIO_IRQ_EDGE_RISING);
	unmask(1, 6);
	req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_NONE);
	model_evq_reset(&M);
	CHECK(M.lines[1].stale && !M.lines[1].orphan && !M.lines[1].held);
	/* A switch to latch gives an orphaned buffer back. */
	irq_line(2, VGPIO_IRQ_EDGE_RISING);
	unmask(2, 7);
	req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_NONE);
	n = nev;
	model_set_behaviour(&M, MODEL_BEHAVIOUR_LATCH);
	CHECK(nev == n + 1 && evs[n].token == 7 && evs[n].status == VGPIO_EVENT_INVALID);
	/* Level types keep the specification's NONE in fifo too. */
	model_set_behaviour(&M, MODEL_BEHAVIOUR_FIFO);
	irq_line(3, VGPIO_IRQ_LEVEL_HIGH);
	unmask(3, 8);
	n = nev;
	req(VGPIO_REQ_SET_IRQ_TYPE, 3, VGPIO_IRQ_NONE);
	CHECK(nev == n + 1 && evs[n].token == 8 && evs[n].status == VGPIO_EVENT_INVALID);
}

static void t_refuse(void)
{
	mk(4, true);
	req(VGPIO_REQ_SET_DIRECTION, 1, VGPIO_DIR_IN);
	CHECK(model_set_refuse(&M, 1, (1U << VGPIO_IRQ_EDGE_RISING) | 1U) == 0);
	CHECK(model_set_refuse(&M, 4, 0) == -1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_RISING) == 1);
	CHECK(M.lines[1].irq_type == VGPIO_IRQ_NONE && M.lines[1].st.errors == 1);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_BOTH) == 0);
	/* NONE is never refused (bit 0 is ignored). */
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_NONE) == 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 2, VGPIO_IRQ_EDGE_RISING) == 0);
	model_set_refuse(&M, 1, 0);
	CHECK(req(VGPIO_REQ_SET_IRQ_TYPE, 1, VGPIO_IRQ_EDGE_RISING) == 0);
}

int main(void)
{
	run("model: config space layout", t_config);
	run("model: GET_LINE_NAMES and the names block", t_names);
	run("model: GET/SET_DIRECTION", t_direction);
	run("model: GET/SET_VALUE on none, out and in lines", t_values);
	run("model: invalid line, type and short buffers answer ERR", t_invalid);
	run("model: SET_IRQ_TYPE rules", t_irq_type);
	run("model: unmask on a not-enabled line returns INVALID", t_unmask_not_enabled);
	run("model: edge latched while masked, sent after unmask", t_edge_latched);
	run("model: edges collapse while masked; both and falling", t_edge_collapse);
	run("model: level re-notifies after unmask while active, nothing latched", t_level);
	run("model: type NONE returns the held buffer INVALID, drops latched edge", t_type_none);
	run("model: one buffer per line", t_one_buffer);
	run("model: event buffer for gpio >= ngpio or short is INVALID", t_event_bad_gpio);
	run("model: direction NONE discards line state", t_dir_none_discards);
	run("model: fail and hang (late replies in order, other lines work)", t_fail_hang);
	run("model: loops drive inputs from outputs", t_loops);
	run("model: statistics and eventq reset", t_stats_reset);
	run("model: device reset returns every line to its initial state", t_device_reset);
	run("model: reset-mode keep: state kept, held buffer goes stale", t_reset_keep);
	run("model: reset-mode forget and state-reset", t_reset_forget);
	run("model: rust-vmm rules for directions and IRQ types", t_rules_rust_vmm);
	run("model: rust-vmm rules: exactly sized buffers", t_rules_rust_vmm_sizes);
	run("model: rust-vmm rules: a line out of range kills the queue", t_rules_rust_vmm_dead);
	run("model: mock-values: GET_VALUE needs a SET_VALUE", t_mock_values);
	run("faults: spec parsing, defaults and errors", t_fault_parse);
	run("faults: table matching, count, clear", t_fault_table);
	run("faults: status, value and transport faults on requests", t_fault_requests);
	run("faults: wrong-line, no-type, evstatus, twice", t_fault_events);
	run("faults: storm", t_fault_storm);
	run("fuzz: decisions are a pure function of seed, k and class", t_fuzz_decide);
	run("fuzz: same seed, same messages: same faults", t_fuzz_replay);
	run("faults: names block generators", t_names_faults);
	run("model: what an edge did (sent, latched, collapsed, lost)", t_edge_outcomes);
	run("model: edge times of VALID events", t_edge_times);
	run("model: per-line edges, latched and collapsed counters", t_edge_counters);
	run("model: fifo: edges queued, one per buffer, the oldest dropped when full", t_fifo_events);
	run("model: fifo: the held buffer outlives type NONE until the next edge", t_fifo_none);
	run("model: refuse: chosen trigger types answer ERR, nothing set", t_refuse);
	run("model: a device with no lines", t_zero_lines);
	run("vring: simple chain, used ring, NO_INTERRUPT", t_ring_chain);
	run("vring: gather/scatter over several descriptors", t_ring_scatter);
	run("vring: indirect descriptors and their errors", t_ring_indirect);
	run("vring: malformed rings are errors", t_ring_errors);
	run("vring: wrap-around of the 16-bit indices", t_ring_wrap);
	run("vring: event idx (used_event, avail_event), a head pushed twice", t_ring_event_idx);
	model_free(&M);
	printf("1..%d\n", passed + failed);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
