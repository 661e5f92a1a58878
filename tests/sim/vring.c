// SPDX-License-Identifier: GPL-2.0
/*
 * Device side of split virtqueues (virtio 1.x, "Split Virtqueues").
 */
#include <string.h>

#include "vring.h"

#define READ_ONCE16(x) (*(volatile uint16_t *)&(x))

size_t vring_desc_size(unsigned int num)
{
	return (size_t)num * sizeof(struct vring_desc);
}

size_t vring_avail_size(unsigned int num)
{
	return 4 + (size_t)num * 2 + 2;
}

size_t vring_used_size(unsigned int num)
{
	return 4 + (size_t)num * sizeof(struct vring_used_elem) + 2;
}

uint16_t vring_avail_count(const struct vring *vr)
{
	return (uint16_t)(READ_ONCE16(vr->avail->idx) - vr->last_avail);
}

static int add_seg(struct vring *vr, struct vring_chain *ch,
		   const struct vring_desc *d, const char **err)
{
	uint8_t *p = NULL;

	if (d->len) {
		p = vr->xlate(vr->xlate_ctx, d->addr, d->len);
		if (!p) {
			*err = "descriptor outside guest memory";
			return -1;
		}
	}
	if (d->flags & VRING_DESC_F_WRITE) {
		if (ch->nw >= VRING_MAX_SEGS) {
			*err = "descriptor chain too long";
			return -1;
		}
		ch->w[ch->nw].p = p;
		ch->w[ch->nw].gpa = d->addr;
		ch->w[ch->nw].len = d->len;
		ch->nw++;
		ch->wlen += d->len;
	} else {
		if (ch->nw) {
			*err = "readable descriptor after a writable one";
			return -1;
		}
		if (ch->nr >= VRING_MAX_SEGS) {
			*err = "descriptor chain too long";
			return -1;
		}
		ch->r[ch->nr].p = p;
		ch->r[ch->nr].gpa = d->addr;
		ch->r[ch->nr].len = d->len;
		ch->nr++;
		ch->rlen += d->len;
	}
	return 0;
}

static int walk_indirect(struct vring *vr, struct vring_chain *ch,
			 const struct vring_desc *ind, const char **err)
{
	const struct vring_desc *tab;
	unsigned int n, i = 0, seen = 0;

	if (!vr->indirect) {
		*err = "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
		return -1;
	}
	if (ind->len == 0 || ind->len % sizeof(struct vring_desc)) {
		*err = "indirect table length is not a multiple of 16";
		return -1;
	}
	tab = vr->xlate(vr->xlate_ctx, ind->addr, ind->len);
	if (!tab) {
		*err = "indirect table outside guest memory";
		return -1;
	}
	n = ind->len / sizeof(struct vring_desc);
	for (;;) {
		struct vring_desc d;

		memcpy(&d, &tab[i], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			*err = "indirect descriptor inside an indirect table";
			return -1;
		}
		if (add_seg(vr, ch, &d, err))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (++seen >= n) {
			*err = "descriptor loop in an indirect table";
			return -1;
		}
		i = d.next;
		if (i >= n) {
			*err = "indirect descriptor index out of range";
			return -1;
		}
	}
}

int vring_pop(struct vring *vr, struct vring_chain *ch, const char **err)
{
	uint16_t avail_idx = READ_ONCE16(vr->avail->idx);
	unsigned int i, seen = 0;

	if (avail_idx == vr->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vr->last_avail) > vr->num) {
		*err = "avail index moved by more than the ring size";
		return -1;
	}
	/* Read the ring entry only after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);

	i = READ_ONCE16(vr->avail->ring[vr->last_avail % vr->num]);
	if (i >= vr->num) {
		*err = "avail ring entry out of range";
		return -1;
	}
	vr->last_avail++;
	ch->head = (uint16_t)i;
	ch->nr = 0;
	ch->nw = 0;
	ch->rlen = 0;
	ch->wlen = 0;
	for (;;) {
		struct vring_desc d;

		memcpy(&d, &vr->desc[i], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (d.flags & VRING_DESC_F_NEXT) {
				*err = "indirect descriptor with NEXT";
				return -1;
			}
			return walk_indirect(vr, ch, &d, err) ? -1 : 1;
		}
		if (add_seg(vr, ch, &d, err))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		if (++seen >= vr->num) {
			*err = "descriptor loop";
			return -1;
		}
		i = d.next;
		if (i >= vr->num) {
			*err = "descriptor next index out of range";
			return -1;
		}
	}
}

void vring_push_n(struct vring *vr, uint16_t head, uint32_t len,
		  unsigned int copies)
{
	unsigned int i;

	for (i = 0; i < copies; i++) {
		struct vring_used_elem *e = &vr->used->ring[vr->used_idx % vr->num];

		e->id = head;
		e->len = len;
		vr->used_idx++;
	}
	/* The elements must be visible before the index that publishes them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint16_t *)&vr->used->idx = vr->used_idx;
}

void vring_push(struct vring *vr, uint16_t head, uint32_t len)
{
	vring_push_n(vr, head, len, 1);
}

static uint16_t *used_event(struct vring *vr)
{
	return &vr->avail->ring[vr->num];
}

static uint16_t *avail_event(struct vring *vr)
{
	return (uint16_t *)&vr->used->ring[vr->num];
}

bool vring_should_notify(struct vring *vr)
{
	uint16_t old = vr->signalled_used, new = vr->used_idx, ev;
	bool valid = vr->signalled_valid;

	/* used->idx is stored before the driver's flags/event are read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vr->event_idx) {
		vr->signalled_used = new;
		vr->signalled_valid = true;
		if (valid && old == new)
			return false;
		return !(READ_ONCE16(vr->avail->flags) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	}
	vr->signalled_used = new;
	vr->signalled_valid = true;
	if (!valid)
		return true;
	ev = READ_ONCE16(*used_event(vr));
	return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
}

bool vring_enable_kick(struct vring *vr)
{
	if (!vr->event_idx)
		return vring_avail_count(vr) != 0;
	*(volatile uint16_t *)avail_event(vr) = vr->last_avail;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vring_avail_count(vr) != 0;
}

size_t vring_read(const struct vring_chain *ch, void *buf, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < ch->nr && done < len; i++) {
		size_t n = ch->r[i].len;

		if (n > len - done)
			n = len - done;
		if (n)
			memcpy((uint8_t *)buf + done, ch->r[i].p, n);
		done += n;
	}
	return done;
}

size_t vring_write(const struct vring_chain *ch, const void *buf, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < ch->nw && done < len; i++) {
		size_t n = ch->w[i].len;

		if (n > len - done)
			n = len - done;
		if (n)
			memcpy(ch->w[i].p, (const uint8_t *)buf + done, n);
		done += n;
	}
	return done;
}
