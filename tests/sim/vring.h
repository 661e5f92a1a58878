/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues seen from the device side: descriptor chains (direct and
 * indirect), the used ring and notification suppression (event idx).
 */
#ifndef VGPIO_SIM_VRING_H
#define VGPIO_SIM_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_AVAIL_F_NO_INTERRUPT 1

#define VRING_MAX_SEGS		64
#define VRING_MAX_NUM		32768

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/* Translates a guest-physical range to a host pointer, or NULL. */
typedef void *(*vring_xlate_fn)(void *ctx, uint64_t gpa, uint64_t len);

struct vring_seg {
	uint8_t *p;
	uint64_t gpa;
	uint32_t len;
};

struct vring_chain {
	uint16_t head;
	unsigned int nr, nw;		/* readable, writable segments */
	struct vring_seg r[VRING_MAX_SEGS];
	struct vring_seg w[VRING_MAX_SEGS];
	size_t rlen, wlen;		/* total bytes */
};

struct vring {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* shadow of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
	bool event_idx;
	bool indirect;
	vring_xlate_fn xlate;
	void *xlate_ctx;
};

/* Little-endian host only (x86-64, arm64): no byte swapping needed. */

/**
 * vring_pop() - take the next available chain
 * @err: set to a message on error
 *
 * Return: 1 with @ch filled, 0 when the ring is empty, -1 on a malformed
 * ring (descriptor outside memory, loop, bad index).
 */
int vring_pop(struct vring *vr, struct vring_chain *ch, const char **err);

/* Put @head on the used ring with @len bytes written. */
void vring_push(struct vring *vr, uint16_t head, uint32_t len);
/*
 * @copies used elements for @head, published by one index update (a device
 * that returns a buffer twice: the driver sees both at once).
 */
void vring_push_n(struct vring *vr, uint16_t head, uint32_t len,
		  unsigned int copies);

/* After one or more pushes: should the driver be signalled? */
bool vring_should_notify(struct vring *vr);

/*
 * With event idx: ask for a kick at the next new entry. Returns true when
 * more entries arrived meanwhile (scan again).
 */
bool vring_enable_kick(struct vring *vr);

/* Number of entries available now. */
uint16_t vring_avail_count(const struct vring *vr);

/* Gather up to @len readable bytes into @buf; returns bytes copied. */
size_t vring_read(const struct vring_chain *ch, void *buf, size_t len);
/* Scatter @len bytes into the writable segments; returns bytes written. */
size_t vring_write(const struct vring_chain *ch, const void *buf, size_t len);

/* Bytes of each part of a ring of @num entries. */
size_t vring_desc_size(unsigned int num);
size_t vring_avail_size(unsigned int num);
size_t vring_used_size(unsigned int num);

#endif
