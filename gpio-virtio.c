// SPDX-License-Identifier: GPL-2.0
/*
 * GPIO lines and their interrupts on a virtio GPIO device (virtio 1.2+,
 * "GPIO Device", device ID 41): requests on the request queue, answered in
 * any order and matched by token; one event buffer pair per line on the
 * event queue, queued (unmasking the line at the device) while the device
 * has the line's trigger type and the irq core has it unmasked. Nothing
 * the device says is trusted: every wait is bounded and killable, a late
 * reply lands in memory the driver still owns, and the device keeps its
 * state across a reset, so the driver undoes what it set before one.
 */

#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/gpio/driver.h>
#include <linux/irq.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/property.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpio.h>
#include <linux/virtio_ids.h>
#include <linux/workqueue.h>

static unsigned int timeout_ms = 1000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "Longest wait for a reply or for ring space in ms (0: no limit)");

static unsigned int poll_us;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us, "Spin up to this many us for a reply before sleeping (0: never)");

/* A names block larger than this costs the names, not the chip. */
#define VGPIO_NAMES_MAX		SZ_1M
/* The longest wait of the teardown's requests and of an exiting task's. */
#define VGPIO_OWN_MS		500
/* Not a device value: the driver does not know the device's state. */
#define VGPIO_UNKNOWN		0xff
/* A line's events per jiffy handled in the callback (2 kHz at HZ=250). */
#define VGPIO_BURST		8
#define VGPIO_TYPES	(BIT(IRQ_TYPE_EDGE_RISING) | BIT(IRQ_TYPE_EDGE_FALLING) | \
			 BIT(IRQ_TYPE_EDGE_BOTH) | BIT(IRQ_TYPE_LEVEL_HIGH) | \
			 BIT(IRQ_TYPE_LEVEL_LOW))

/* One request and its response. */
struct vgpio_msg {
	struct vgpio_batch *b;			/* the batch it belongs to */
	void *resp;				/* @res, or a names block */
	u32 resp_len;
	s32 len;				/* bytes written; -1: no reply */
	struct virtio_gpio_request req;
	/* private: the device writes alone in its cache lines */
	__dma_from_device_group_begin();
	/* public: */
	struct virtio_gpio_response res;
	/* private: */
	__dma_from_device_group_end();
};

/*
 * Requests sent and waited for together. A waiter that gives up leaves the
 * batch to the device: its last reply (or the reset) frees it. @refs (the
 * waiter's, and one per request in flight) and @sent are under req_lock.
 */
struct vgpio_batch {
	unsigned int refs;
	bool sent;				/* all that will be sent is */
	struct completion done;			/* the device returned all */
	unsigned int n;
	struct vgpio_msg msg[];
};

/* Event state bits of &vgpio_line.flags */
enum {
	VGPIO_ENABLED,	/* the device has the line's trigger type */
	VGPIO_QUEUED,	/* the device owns the event buffer pair */
	VGPIO_STALE,	/* ... queued before the type changed */
	VGPIO_RESYNC,	/* the device's events contradict its type */
	VGPIO_LATCHED,	/* an edge came while the line was masked */
	VGPIO_PAUSED,	/* a storm: armed again by the resync work */
	VGPIO_MASKED,	/* the irq core masked the line (kept across a reset) */
	VGPIO_REPLAY,	/* the irq core asked for a resend (kept too) */
};

/* The event buffer pair of one line. */
struct vgpio_evt {
	struct virtio_gpio_irq_request req;
	/* private: the device writes alone in its cache lines */
	__dma_from_device_group_begin();
	/* public: */
	struct virtio_gpio_irq_response res;
	/* private: */
	__dma_from_device_group_end();
};

/*
 * Per-line state. @active to @rejected are under irq_lock; of @flags,
 * ENABLED, QUEUED, STALE and RESYNC change under evq_lock, like @evt_*.
 */
struct vgpio_line {
	u8 dir;			/* as last read or set, or VGPIO_UNKNOWN */
	u8 val;			/* the last value the device accepted */
	bool held;		/* a consumer requested the line */
	bool active;		/* an interrupt is requested */
	u8 type;		/* trigger type the irq core wants */
	u8 dev_type;		/* the device's, or VGPIO_UNKNOWN */
	u16 rejected;		/* types the device refused here */
	bool learnt;		/* @rejected holds every type's answer */
	unsigned long flags;
	unsigned int evt_len;	/* bytes the device wrote in @evt */
	unsigned int evt_burst;	/* events since jiffy @evt_stamp */
	unsigned long evt_stamp;
	struct vgpio_line *evt_next;	/* returned in the same callback */
	struct list_head evt_wait;	/* waiting for room in the ring */
	struct vgpio_evt *evt;
};

struct virtio_gpio {
	struct virtio_device *vdev;
	struct gpio_chip gc;
	unsigned int ngpio;
	struct vgpio_line *lines;
	const char **names;		/* for &gpio_chip.names, or NULL */
	char *names_buf;		/* what @names point into */
	struct fwnode_handle *swnode;	/* carries the names, or NULL */

	struct virtqueue *req_vq;
	spinlock_t req_lock;	/* req_vq, batches, broken..pollers, space_gen */
	bool broken;		/* the virtqueues are gone: requests fail */
	bool closing;		/* teardown: only its own requests go out */
	bool stalled;		/* an exiting task got no reply (a hint) */
	unsigned int pollers;	/* callers polling: notifications off */
	unsigned long space_gen;	/* counts reaps, for ring space */
	wait_queue_head_t space_wq;
	unsigned int chunk;	/* most requests in flight per batch */
	atomic_t users;		/* callers in vgpio_ops(); remove waits */

	struct virtqueue *evt_vq;	/* NULL without interrupts */
	spinlock_t evq_lock;	/* evt_vq, evt_waiting, lines' event state */
	struct list_head evt_waiting;
	unsigned int evt_owned;	/* pairs the device owns */
	wait_queue_head_t evt_wq;	/* teardown waits for the pairs */
	struct delayed_work resync;
	struct mutex irq_lock;	/* the irq bus lock: lines' trigger state */
};

/* Requests */

/* Drop a reference of @b, under req_lock. */
static void vgpio_batch_put(struct vgpio_batch *b)
{
	if (b->refs == 2 && b->sent)
		complete(&b->done);
	if (--b->refs)
		return;
	if (b->msg[0].resp != &b->msg[0].res)
		kfree(b->msg[0].resp);
	kfree(b);
}

static struct vgpio_batch *vgpio_batch_alloc(unsigned int n)
{
	struct vgpio_batch *b = kzalloc(struct_size(b, msg, n), GFP_KERNEL);
	unsigned int i;

	if (!b)
		return NULL;
	init_completion(&b->done);
	b->refs = 1;
	b->n = n;
	for (i = 0; i < n; i++) {
		b->msg[i].b = b;
		b->msg[i].resp = &b->msg[i].res;
		b->msg[i].resp_len = sizeof(b->msg[i].res);
		b->msg[i].len = -1;
	}
	return b;
}

/* Take the replies off the request ring; their waiters wake. */
static void vgpio_reap(struct virtio_gpio *vgpio)
{
	struct vgpio_msg *m;
	unsigned int len, n = 0;

	lockdep_assert_held(&vgpio->req_lock);

	while ((m = virtqueue_get_buf(vgpio->req_vq, &len))) {
		m->len = min_t(unsigned int, len, S32_MAX);
		vgpio_batch_put(m->b);
		n++;
	}
	if (!n)		/* a poller calls this in a loop */
		return;
	WRITE_ONCE(vgpio->stalled, false);
	vgpio->space_gen++;
	if (wq_has_sleeper(&vgpio->space_wq))
		wake_up(&vgpio->space_wq);
}

static void vgpio_request_done(struct virtqueue *vq)
{
	struct virtio_gpio *vgpio = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	vgpio_reap(vgpio);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
}

/*
 * Spin up to @us for @b's replies before sleeping. While anyone polls, the
 * device is asked not to notify (vgpio_xfer()): an interrupt for a reply a
 * poller took finds nothing (IRQ_NONE), and enough of those disable the
 * line. The last poller turns notifications on again and takes what came.
 */
static void vgpio_poll(struct virtio_gpio *vgpio, struct vgpio_batch *b, unsigned int us)
{
	ktime_t end = ktime_add_us(ktime_get(), us);

	while (!completion_done(&b->done) && !need_resched() && ktime_before(ktime_get(), end)) {
		spin_lock_irq(&vgpio->req_lock);
		if (!vgpio->broken)
			vgpio_reap(vgpio);
		spin_unlock_irq(&vgpio->req_lock);
		cpu_relax();
	}
	spin_lock_irq(&vgpio->req_lock);
	if (!--vgpio->pollers && !vgpio->broken && !virtqueue_enable_cb(vgpio->req_vq))
		vgpio_reap(vgpio);
	spin_unlock_irq(&vgpio->req_lock);
}

/* An exiting task waits like teardown; not at all after one got no reply. */
static long vgpio_timeout(struct virtio_gpio *vgpio, bool own)
{
	bool exiting = current->flags & PF_EXITING;
	unsigned int ms = READ_ONCE(timeout_ms);

	if (exiting && !own && READ_ONCE(vgpio->stalled))
		return 0;
	if ((own || exiting) && (!ms || ms > VGPIO_OWN_MS))
		ms = VGPIO_OWN_MS;
	return ms ? msecs_to_jiffies(ms) : MAX_SCHEDULE_TIMEOUT;
}

/*
 * Send a batch, all in flight (room waited for), and wait for every reply;
 * waits are killable, bounded by timeout_ms (VGPIO_OWN_MS for teardown's
 * own requests, @own); kicks under the lock (vgpio_stop() deletes the queue).
 * Return: 0, -ENODEV, -ETIMEDOUT, -EINTR or a virtqueue error; a request
 * without a reply (len -1) stays the device's.
 */
static int vgpio_xfer(struct virtio_gpio *vgpio, struct vgpio_batch *b, bool own)
{
	struct scatterlist req_sg, res_sg, *sgs[] = { &req_sg, &res_sg };
	long tmo = vgpio_timeout(vgpio, own), left = 0;
	unsigned int i = 0, added = 0, us = READ_ONCE(poll_us);
	unsigned long gen;
	bool wait;
	int ret = 0;

	spin_lock_irq(&vgpio->req_lock);
	while (i < b->n) {
		if (vgpio->broken || (vgpio->closing && !own)) {
			ret = -ENODEV;
			break;
		}
		sg_init_one(&req_sg, &b->msg[i].req, sizeof(b->msg[i].req));
		sg_init_one(&res_sg, b->msg[i].resp, b->msg[i].resp_len);
		ret = virtqueue_add_sgs(vgpio->req_vq, sgs, 1, 1, &b->msg[i], GFP_ATOMIC);
		if (!ret) {
			b->refs++;
			added++;
			i++;
			continue;
		}
		if (ret != -ENOSPC)
			break;
		/* The ring is full: the device sees what is in, we wait. */
		if (added)
			virtqueue_kick(vgpio->req_vq);
		added = 0;
		gen = vgpio->space_gen;
		spin_unlock_irq(&vgpio->req_lock);
		left = wait_event_killable_timeout(vgpio->space_wq,
						   READ_ONCE(vgpio->space_gen) != gen ||
						   READ_ONCE(vgpio->broken), tmo);
		spin_lock_irq(&vgpio->req_lock);
		ret = left > 0 ? 0 : left ? -EINTR : -ETIMEDOUT;
		if (ret)
			break;
	}
	b->sent = true;
	wait = !ret && b->refs > 1;
	if (wait && us && !vgpio->pollers++ && !vgpio->broken)
		virtqueue_disable_cb(vgpio->req_vq);
	if (added && !vgpio->broken)
		virtqueue_kick(vgpio->req_vq);
	spin_unlock_irq(&vgpio->req_lock);

	if (wait) {
		if (us)
			vgpio_poll(vgpio, b, us);
		left = wait_for_completion_killable_timeout(&b->done, tmo);
		spin_lock_irq(&vgpio->req_lock);
		if (vgpio->broken)
			ret = -ENODEV;
		else if (b->refs > 1)
			ret = left < 0 ? -EINTR : -ETIMEDOUT;
		spin_unlock_irq(&vgpio->req_lock);
	}
	if (ret == -ETIMEDOUT && (current->flags & PF_EXITING))
		WRITE_ONCE(vgpio->stalled, true);
	return ret;
}

/*
 * A device's ERR is a refusal (-EIO); a reply that is not well formed is
 * a broken device (-EPROTO): the request may or may not have been done.
 */
static int vgpio_check(struct virtio_gpio *vgpio, struct vgpio_msg *m)
{
	u8 status = *(u8 *)m->resp;

	if (m->len == m->resp_len && status <= VIRTIO_GPIO_STATUS_ERR)
		return status ? -EIO : 0;
	dev_warn_ratelimited(&vgpio->vdev->dev,
			     "line %u: malformed reply (%d of %u bytes, status %u)\n",
			     le16_to_cpu(m->req.gpio), m->len, m->resp_len, status);
	return -EPROTO;
}

/* One line request for vgpio_ops(), with its outcome. */
struct vgpio_op {
	u16 type;
	u16 line;
	u32 value;
	u8 rvalue;
	int ret;
};

#define VGPIO_OP(type, line, value)	((struct vgpio_op){ VIRTIO_GPIO_MSG_##type, line, value })

/* What a request that ended leaves known about its line. */
static void vgpio_note(struct virtio_gpio *vgpio, struct vgpio_op *op)
{
	struct vgpio_line *line = &vgpio->lines[op->line];

	switch (op->type) {
	case VIRTIO_GPIO_MSG_GET_DIRECTION:
		/* A line whose direction the device will not tell is inactive. */
		if (!op->ret || op->ret == -EIO)
			WRITE_ONCE(line->dir, op->ret ? VIRTIO_GPIO_DIRECTION_NONE :
				   op->rvalue);
		break;
	case VIRTIO_GPIO_MSG_SET_DIRECTION:
		/* Without a reply the device may or may not have done it. */
		if (op->ret != -EIO)
			WRITE_ONCE(line->dir, op->ret ? VGPIO_UNKNOWN : op->value);
		break;
	case VIRTIO_GPIO_MSG_SET_VALUE:
		if (!op->ret)
			WRITE_ONCE(line->val, op->value);
		break;
	}
}

/*
 * Run line requests in batches of a ring's worth, each with its outcome.
 * Requests in flight together may be carried out in any order: @ops never
 * holds two for one line. Return: 0, or the first error.
 */
static int vgpio_ops(struct virtio_gpio *vgpio, struct vgpio_op *ops, unsigned int n, bool own)
{
	unsigned int first, k, i;
	struct vgpio_batch *b;
	int ret = 0, err = 0;

	atomic_inc(&vgpio->users);
	for (first = 0; first < n; first += k) {
		k = min(n - first, vgpio->chunk);
		b = err ? NULL : vgpio_batch_alloc(k);
		if (!b) {
			for (i = first; i < n; i++)
				ops[i].ret = err ?: -ENOMEM;
			ret = ret ?: ops[first].ret;
			break;
		}
		for (i = 0; i < k; i++) {
			b->msg[i].req.type = cpu_to_le16(ops[first + i].type);
			b->msg[i].req.gpio = cpu_to_le16(ops[first + i].line);
			b->msg[i].req.value = cpu_to_le32(ops[first + i].value);
		}
		err = vgpio_xfer(vgpio, b, own);
		for (i = 0; i < k; i++) {
			struct vgpio_op *op = &ops[first + i];

			op->ret = b->msg[i].len < 0 ? err :
				  vgpio_check(vgpio, &b->msg[i]);
			op->rvalue = b->msg[i].res.value;
			vgpio_note(vgpio, op);
			ret = ret ?: op->ret;
		}
		spin_lock_irq(&vgpio->req_lock);
		vgpio_batch_put(b);	/* the results are read */
		spin_unlock_irq(&vgpio->req_lock);
	}
	if (atomic_dec_and_test(&vgpio->users))
		wake_up_var(&vgpio->users);
	return ret;
}

/* One request, waited for; the response value goes to @rvalue. */
static int vgpio_req(struct virtio_gpio *vgpio, u16 type, u16 line, u32 value, u8 *rvalue)
{
	struct vgpio_op op = { .type = type, .line = line, .value = value };
	int ret = vgpio_ops(vgpio, &op, 1, false);

	if (rvalue)
		*rvalue = op.rvalue;
	return ret;
}

static int vgpio_check_value(struct virtio_gpio *vgpio, unsigned int line, u8 value)
{
	if (value <= 1)
		return value;
	dev_warn_ratelimited(&vgpio->vdev->dev, "line %u: value %u\n", line, value);
	return -EPROTO;
}

/* The same request for every line in @mask, all in flight at once. */
static int vgpio_req_lines(struct virtio_gpio *vgpio, u16 type,
			   unsigned long *mask, unsigned long *bits)
{
	unsigned int n = bitmap_weight(mask, vgpio->ngpio), i = 0, line;
	bool set = type == VIRTIO_GPIO_MSG_SET_VALUE;
	struct vgpio_op *ops;
	int ret;

	ops = kvcalloc(n, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	for_each_set_bit(line, mask, vgpio->ngpio)
		ops[i++] = (struct vgpio_op){ type, line, set && test_bit(line, bits) };
	ret = vgpio_ops(vgpio, ops, n, false);
	for (i = 0; !ret && !set && i < n; i++) {
		ret = vgpio_check_value(vgpio, ops[i].line, ops[i].rvalue);
		__assign_bit(ops[i].line, bits, ret > 0);
		ret = min(ret, 0);
	}
	kvfree(ops);
	return ret;
}

/* The GPIO chip */

static int virtio_gpio_request(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	WRITE_ONCE(vgpio->lines[offset].held, true);
	return 0;
}

static void virtio_gpio_free(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	struct vgpio_line *line = &vgpio->lines[offset];

	WRITE_ONCE(line->held, false);
	/* A line whose interrupt is in use stays an input. */
	if (!READ_ONCE(line->active))
		vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_DIRECTION, offset,
			  VIRTIO_GPIO_DIRECTION_NONE, NULL);
}

static int virtio_gpio_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	struct vgpio_line *line = &vgpio->lines[offset];
	int ret;
	u8 dir;

	/* Only the driver changes a direction: ask only when it is unknown. */
	if (READ_ONCE(line->dir) == VGPIO_UNKNOWN) {
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_GET_DIRECTION, offset, 0, NULL);
		if (ret && ret != -EIO)
			return ret;
	}
	/* An inactive line (NONE) drives nothing: it is an input. */
	dir = READ_ONCE(line->dir);
	if (dir == VIRTIO_GPIO_DIRECTION_OUT)
		return GPIO_LINE_DIRECTION_OUT;
	if (dir == VIRTIO_GPIO_DIRECTION_IN || dir == VIRTIO_GPIO_DIRECTION_NONE)
		return GPIO_LINE_DIRECTION_IN;
	WRITE_ONCE(line->dir, VGPIO_UNKNOWN);
	dev_warn_ratelimited(&vgpio->vdev->dev, "line %u: unknown direction %u\n", offset, dir);
	return -EPROTO;
}

static int virtio_gpio_direction_input(struct gpio_chip *gc, unsigned int offset)
{
	return vgpio_req(gpiochip_get_data(gc), VIRTIO_GPIO_MSG_SET_DIRECTION,
			 offset, VIRTIO_GPIO_DIRECTION_IN, NULL);
}

static int virtio_gpio_direction_output(struct gpio_chip *gc, unsigned int offset, int value)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	/* The value first, and answered: the line never drives a stale level. */
	return vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_VALUE, offset, !!value, NULL) ?:
	       vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_DIRECTION, offset,
			 VIRTIO_GPIO_DIRECTION_OUT, NULL);
}

static int virtio_gpio_get(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	u8 value;

	return vgpio_req(vgpio, VIRTIO_GPIO_MSG_GET_VALUE, offset, 0, &value) ?:
	       vgpio_check_value(vgpio, offset, value);
}

static int virtio_gpio_set(struct gpio_chip *gc, unsigned int offset, int value)
{
	return vgpio_req(gpiochip_get_data(gc), VIRTIO_GPIO_MSG_SET_VALUE, offset, !!value, NULL);
}

static int virtio_gpio_get_multiple(struct gpio_chip *gc, unsigned long *mask, unsigned long *bits)
{
	return vgpio_req_lines(gpiochip_get_data(gc), VIRTIO_GPIO_MSG_GET_VALUE, mask, bits);
}

static int virtio_gpio_set_multiple(struct gpio_chip *gc, unsigned long *mask, unsigned long *bits)
{
	return vgpio_req_lines(gpiochip_get_data(gc), VIRTIO_GPIO_MSG_SET_VALUE, mask, bits);
}

/* The lines in use as the driver knows them: no request is sent. */
static void virtio_gpio_dbg_show(struct seq_file *s, struct gpio_chip *gc)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	struct vgpio_line *line;
	unsigned int i;

	for (i = 0; i < vgpio->ngpio; i++) {
		line = &vgpio->lines[i];
		if (READ_ONCE(line->held) || READ_ONCE(line->active))
			seq_printf(s, " line %u: dir %u value %u held %d irq %#x device %#x flags %#lx\n",
				   i, READ_ONCE(line->dir), READ_ONCE(line->val),
				   READ_ONCE(line->held), READ_ONCE(line->type),
				   READ_ONCE(line->dev_type), READ_ONCE(line->flags));
	}
}

/* Interrupts */

static struct virtio_gpio *irqd_to_vgpio(struct irq_data *d)
{
	return gpiochip_get_data(irq_data_get_irq_chip_data(d));
}

static struct vgpio_line *irqd_to_line(struct irq_data *d)
{
	return &irqd_to_vgpio(d)->lines[irqd_to_hwirq(d)];
}

/*
 * Queue @line's pair if the device has its type, the irq core has it
 * unmasked and the device does not own it; with the ring full, the line
 * waits its turn. Return: true when the queue needs a kick.
 */
static bool vgpio_evt_arm(struct virtio_gpio *vgpio, struct vgpio_line *line)
{
	struct scatterlist req_sg, res_sg, *sgs[] = { &req_sg, &res_sg };
	unsigned long flags;
	int ret;

	lockdep_assert_held(&vgpio->evq_lock);

	flags = READ_ONCE(line->flags);
	/* An edge line is armed again at once (the next edge is latched). */
	if (!vgpio->evt_vq || (flags & (BIT(VGPIO_ENABLED) | BIT(VGPIO_QUEUED) | BIT(VGPIO_RESYNC) |
	    BIT(VGPIO_LATCHED) | BIT(VGPIO_PAUSED))) != BIT(VGPIO_ENABLED) ||
	    ((flags & BIT(VGPIO_MASKED)) && (READ_ONCE(line->dev_type) & IRQ_TYPE_LEVEL_MASK)))
		return false;
	sg_init_one(&req_sg, &line->evt->req, sizeof(line->evt->req));
	sg_init_one(&res_sg, &line->evt->res, sizeof(line->evt->res));
	ret = virtqueue_add_sgs(vgpio->evt_vq, sgs, 1, 1, line, GFP_ATOMIC);
	if (ret) {
		if (list_empty(&line->evt_wait))
			list_add_tail(&line->evt_wait, &vgpio->evt_waiting);
		if (ret != -ENOSPC)
			dev_warn_ratelimited(&vgpio->vdev->dev,
					     "line %td: cannot queue event buffer: %d\n",
					     line - vgpio->lines, ret);
		return false;
	}
	list_del_init(&line->evt_wait);
	set_bit(VGPIO_QUEUED, &line->flags);
	vgpio->evt_owned++;
	return true;
}

/*
 * Hand the irq core the resend it asked for, then an edge latched while the
 * line was masked, then arm the line: where no irq core lock is held (the
 * bus unlock, resync, restore).
 */
static void vgpio_evt_update(struct virtio_gpio *vgpio, struct vgpio_line *line)
{
	unsigned int hw = line - vgpio->lines;

	spin_lock_irq(&vgpio->evq_lock);
	if (test_and_clear_bit(VGPIO_REPLAY, &line->flags))
		generic_handle_domain_irq_safe(vgpio->gc.irq.domain, hw);
	if (!test_bit(VGPIO_MASKED, &line->flags) &&
	    test_and_clear_bit(VGPIO_LATCHED, &line->flags))
		generic_handle_domain_irq_safe(vgpio->gc.irq.domain, hw);
	if (vgpio_evt_arm(vgpio, line))
		virtqueue_kick(vgpio->evt_vq);
	spin_unlock_irq(&vgpio->evq_lock);
}

/*
 * The device has (or no longer has) @line's trigger type. A pair it owns
 * across a change may come back INVALID for the old type.
 */
static void vgpio_evt_enable(struct virtio_gpio *vgpio, struct vgpio_line *line, bool on)
{
	spin_lock_irq(&vgpio->evq_lock);
	clear_bit(VGPIO_LATCHED, &line->flags);
	if (on)
		set_bit(VGPIO_ENABLED, &line->flags);
	else if (test_and_clear_bit(VGPIO_ENABLED, &line->flags) &&
		 test_bit(VGPIO_QUEUED, &line->flags))
		set_bit(VGPIO_STALE, &line->flags);
	spin_unlock_irq(&vgpio->evq_lock);
}

/*
 * One pair back, for the line of its token (never the one it names). VALID
 * on an enabled line goes to the irq core (masked: see vgpio_evt_arm()).
 * INVALID answers a line being disabled, also late for a pair queued before
 * a type change (or VALID at the next edge: an event of the new type).
 * Anything else is a device out of step: the line is brought back in step
 * later. Neither a storm nor a broken device can keep the CPU here.
 */
static void vgpio_evt_one(struct virtio_gpio *vgpio, struct vgpio_line *line)
{
	bool stale = test_and_clear_bit(VGPIO_STALE, &line->flags);
	bool on = test_bit(VGPIO_ENABLED, &line->flags);
	unsigned int hw = line - vgpio->lines;
	u8 status = line->evt->res.status;

	lockdep_assert_held(&vgpio->evq_lock);

	if (line->evt_len == sizeof(line->evt->res) && status <= VIRTIO_GPIO_IRQ_STATUS_VALID &&
	    (status == VIRTIO_GPIO_IRQ_STATUS_VALID || stale || !on)) {
		if (status != VIRTIO_GPIO_IRQ_STATUS_VALID || !on)
			return;
		/* A device answering at once would keep the CPU here: pause. */
		line->evt_burst = time_after(jiffies, line->evt_stamp) ? 0 : line->evt_burst + 1;
		line->evt_stamp = jiffies;
		if (line->evt_burst >= VGPIO_BURST && !test_and_set_bit(VGPIO_PAUSED, &line->flags))
			queue_delayed_work(system_long_wq, &vgpio->resync, 1);
		/* Masked: an edge waits for the unmask, a level is asked again. */
		if (!test_bit(VGPIO_MASKED, &line->flags))
			generic_handle_domain_irq_safe(vgpio->gc.irq.domain, hw);
		else if (!(READ_ONCE(line->dev_type) & IRQ_TYPE_LEVEL_MASK))
			set_bit(VGPIO_LATCHED, &line->flags);
		return;
	}
	dev_warn_ratelimited(&vgpio->vdev->dev, "line %u: unexpected event (status %u, %u bytes)\n",
			     hw, status, line->evt_len);
	if (on) {
		set_bit(VGPIO_RESYNC, &line->flags);
		queue_delayed_work(system_long_wq, &vgpio->resync, msecs_to_jiffies(10));
	}
}

/*
 * All returned pairs are taken off the ring before any is handled: a head
 * returned twice then finds itself free (the virtio core refuses it), not in
 * use by a new buffer. Handlers run here (not threaded) have unmasked their
 * lines by the time they are armed; lines waiting for room go first.
 */
static void vgpio_event_done(struct virtqueue *vq)
{
	struct virtio_gpio *vgpio = vq->vdev->priv;
	struct vgpio_line *line, *done = NULL, **tail = &done, *tmp;
	unsigned long flags;
	unsigned int len;
	bool kick = false;

	spin_lock_irqsave(&vgpio->evq_lock, flags);
	while ((line = virtqueue_get_buf(vq, &len))) {
		clear_bit(VGPIO_QUEUED, &line->flags);
		vgpio->evt_owned--;
		line->evt_len = len;
		*tail = line;
		tail = &line->evt_next;
	}
	*tail = NULL;
	for (line = done; line; line = line->evt_next)
		vgpio_evt_one(vgpio, line);
	list_for_each_entry_safe(line, tmp, &vgpio->evt_waiting, evt_wait) {
		list_del_init(&line->evt_wait);
		kick |= vgpio_evt_arm(vgpio, line);
		if (!list_empty(&line->evt_wait))
			break;
	}
	for (line = done; line; line = line->evt_next)
		kick |= vgpio_evt_arm(vgpio, line);
	if (kick)
		virtqueue_kick(vq);
	spin_unlock_irqrestore(&vgpio->evq_lock, flags);
	if (done && READ_ONCE(vgpio->closing))
		wake_up(&vgpio->evt_wq);
}

/*
 * Give line @hw trigger type @type, through NONE (the spec asks it), also
 * when the device's type is unknown: an ERR to that NONE means it had none.
 * Return: 0, -EIO when refused, or why there was no reply (type unknown).
 */
static int vgpio_set_type(struct virtio_gpio *vgpio, unsigned int hw, u8 type)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	if (type == line->dev_type)
		return 0;
	if (line->dev_type != VIRTIO_GPIO_IRQ_TYPE_NONE) {
		vgpio_evt_enable(vgpio, line, false);
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_IRQ_TYPE, hw,
				VIRTIO_GPIO_IRQ_TYPE_NONE, NULL);
		if (ret && (ret != -EIO || line->dev_type != VGPIO_UNKNOWN)) {
			if (ret != -EIO)
				line->dev_type = VGPIO_UNKNOWN;
			return ret;
		}
		line->dev_type = VIRTIO_GPIO_IRQ_TYPE_NONE;
	}
	if (type == VIRTIO_GPIO_IRQ_TYPE_NONE)
		return 0;
	ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_IRQ_TYPE, hw, type, NULL);
	if (ret != -EIO)
		line->dev_type = ret ? VGPIO_UNKNOWN : type;
	if (!ret)
		vgpio_evt_enable(vgpio, line, true);
	return ret;
}

/*
 * Give the device the type the irq core wants for @hw; one it refuses here
 * is remembered for the line, which stays off.
 */
static void vgpio_irq_sync(struct virtio_gpio *vgpio, unsigned int hw)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	u8 want = line->active ? line->type : VIRTIO_GPIO_IRQ_TYPE_NONE;
	int ret = vgpio_set_type(vgpio, hw, want);

	if (ret == -EIO && want)
		line->rejected |= BIT(want);
	if (ret && ret != -ENODEV)
		dev_warn_ratelimited(&vgpio->vdev->dev, "line %u: interrupt type %#x not set (%d)%s\n",
				     hw, want, ret, ret == -EIO ? ": refused, no interrupts" : "");
}

/*
 * Only irq_set_type() can refuse a type, where no request can be sent, and
 * no device says which types a line takes. So a line's first interrupt
 * request tries each type on it, once, then leaves it the type it will
 * likely get (its last, or EDGE_BOTH: gpiomon's); no pair is queued.
 */
static void vgpio_irq_learn(struct virtio_gpio *vgpio, unsigned int hw)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	u8 type, guess = line->type ?: IRQ_TYPE_EDGE_BOTH;
	unsigned long todo = line->learnt ? 0 : VGPIO_TYPES & ~BIT(guess);
	int ret;

	do {
		type = todo ? __ffs(todo) : guess;
		todo &= todo - 1;
		if (line->rejected & BIT(type))
			continue;
		ret = vgpio_set_type(vgpio, hw, type);
		if (ret && ret != -EIO)
			return;
		if (ret)
			line->rejected |= BIT(type);
	} while (type != guess);
	line->learnt = true;
}

static void vgpio_irq_mask(struct irq_data *d)
{
	set_bit(VGPIO_MASKED, &irqd_to_line(d)->flags);
	gpiochip_disable_irq(irq_data_get_irq_chip_data(d), irqd_to_hwirq(d));
}

/*
 * Armed by the bus unlock that follows (end of a threaded handler,
 * enable_irq(), request_irq()), by vgpio_event_done() or vgpio_evt_update()
 * after a handler they ran, or, on resume, by restore.
 */
static void vgpio_irq_unmask(struct irq_data *d)
{
	gpiochip_enable_irq(irq_data_get_irq_chip_data(d), irqd_to_hwirq(d));
	clear_bit(VGPIO_MASKED, &irqd_to_line(d)->flags);
}

/*
 * An edge came while the interrupt was (lazily) disabled. The irq core's own
 * resend would run the flow handler in a tasklet, where the line could not
 * be armed again: vgpio_evt_update() hands it over instead.
 */
static int vgpio_irq_retrigger(struct irq_data *d)
{
	set_bit(VGPIO_REPLAY, &irqd_to_line(d)->flags);
	return 1;
}

/* The specification gives the trigger types the irq core's values. */
static int vgpio_irq_set_type(struct irq_data *d, unsigned int type)
{
	struct vgpio_line *line = irqd_to_line(d);

	type &= IRQ_TYPE_SENSE_MASK;
	if (!(BIT(type) & VGPIO_TYPES) || (BIT(type) & line->rejected))
		return -EINVAL;
	line->type = type;
	return 0;
}

static void vgpio_irq_bus_lock(struct irq_data *d)
{
	mutex_lock(&irqd_to_vgpio(d)->irq_lock);
}

static void vgpio_irq_bus_sync_unlock(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);

	vgpio_irq_sync(vgpio, irqd_to_hwirq(d));
	mutex_unlock(&vgpio->irq_lock);
	vgpio_evt_update(vgpio, irqd_to_line(d));
}

static int vgpio_irq_reqres(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	unsigned int hw = irqd_to_hwirq(d);
	struct vgpio_line *line = &vgpio->lines[hw];
	struct vgpio_evt *evt;
	int ret;

	/*
	 * gpiochip_remove() frees the interrupts it finds requested, once;
	 * vgpio_stop() sets @closing before it takes the bus lock held
	 * here, so a request either is in place by then or fails now.
	 */
	if (READ_ONCE(vgpio->closing))
		return -ENODEV;
	ret = gpiochip_reqres_irq(&vgpio->gc, hw);
	if (ret)
		return ret;
	if (!line->evt) {
		evt = kzalloc_obj(*evt, GFP_KERNEL);
		ret = -ENOMEM;
		if (!evt)
			goto err;
		evt->req.gpio = cpu_to_le16(hw);
		line->evt = evt;	/* used once the line is ENABLED */
	}
	/*
	 * An interrupt alone (no GPIO request) leaves the line without a
	 * direction, an input to gpiolib; devices take interrupts on inputs.
	 */
	if (READ_ONCE(line->dir) != VIRTIO_GPIO_DIRECTION_IN) {
		ret = virtio_gpio_direction_input(&vgpio->gc, hw);
		if (ret)
			goto err;
	}
	vgpio_irq_learn(vgpio, hw);
	line->active = true;
	return 0;
err:
	gpiochip_relres_irq(&vgpio->gc, hw);
	return ret;
}

static void vgpio_irq_relres(struct irq_data *d)
{
	irqd_to_line(d)->active = false;
	gpiochip_relres_irq(irq_data_get_irq_chip_data(d), irqd_to_hwirq(d));
}

static void vgpio_irq_print_chip(struct irq_data *d, struct seq_file *p)
{
	seq_puts(p, irqd_to_vgpio(d)->gc.label);
}

/*
 * No irq_set_wake: the trigger types are off while the guest sleeps (see
 * virtio_gpio_freeze()), so no line can wake it.
 */
static const struct irq_chip vgpio_irq_chip = {
	.irq_mask		= vgpio_irq_mask,
	.irq_unmask		= vgpio_irq_unmask,
	.irq_retrigger		= vgpio_irq_retrigger,
	.irq_set_type		= vgpio_irq_set_type,
	.irq_bus_lock		= vgpio_irq_bus_lock,
	.irq_bus_sync_unlock	= vgpio_irq_bus_sync_unlock,
	.irq_request_resources	= vgpio_irq_reqres,
	.irq_release_resources	= vgpio_irq_relres,
	.irq_print_chip		= vgpio_irq_print_chip,
	.name			= "gpio-virtio",
	.flags			= IRQCHIP_IMMUTABLE,
};

/* Arm paused lines; bring lines whose events contradicted their type back in step. */
static void vgpio_resync_work(struct work_struct *work)
{
	struct virtio_gpio *vgpio = container_of(to_delayed_work(work), struct virtio_gpio, resync);
	unsigned int i;

	for (i = 0; i < vgpio->ngpio; i++) {
		if (test_and_clear_bit(VGPIO_PAUSED, &vgpio->lines[i].flags))
			vgpio_evt_update(vgpio, &vgpio->lines[i]);
		if (!test_bit(VGPIO_RESYNC, &vgpio->lines[i].flags))
			continue;
		mutex_lock(&vgpio->irq_lock);
		vgpio_evt_enable(vgpio, &vgpio->lines[i], false);
		clear_bit(VGPIO_RESYNC, &vgpio->lines[i].flags);
		vgpio->lines[i].dev_type = VGPIO_UNKNOWN;
		vgpio_irq_sync(vgpio, i);
		mutex_unlock(&vgpio->irq_lock);
		vgpio_evt_update(vgpio, &vgpio->lines[i]);
	}
}

/* Virtqueue setup and teardown, shared by probe/remove and freeze/restore */

static int vgpio_start(struct virtio_gpio *vgpio)
{
	struct virtqueue_info vqs_info[] = {
		{ .name = "requestq", .callback = vgpio_request_done },
		{ .name = "eventq", .callback = vgpio_event_done },
	};
	struct virtqueue *vqs[2] = { };
	int ret;

	ret = virtio_find_vqs(vgpio->vdev,
			      virtio_has_feature(vgpio->vdev, VIRTIO_GPIO_F_IRQ) ? 2 : 1,
			      vqs, vqs_info, NULL);
	if (ret) {
		dev_err(&vgpio->vdev->dev, "cannot set up virtqueues: %d\n", ret);
		return ret;
	}
	vgpio->chunk = virtqueue_get_vring_size(vqs[0]);
	spin_lock_irq(&vgpio->req_lock);
	vgpio->req_vq = vqs[0];
	vgpio->broken = false;
	vgpio->closing = false;
	spin_unlock_irq(&vgpio->req_lock);
	spin_lock_irq(&vgpio->evq_lock);
	vgpio->evt_vq = vqs[1];
	spin_unlock_irq(&vgpio->evq_lock);
	virtio_device_ready(vgpio->vdev);
	return 0;
}

/*
 * Undo what the driver set, reset the device, take every buffer back. A
 * vhost-user device does not see the reset: every line with a type gets
 * NONE first (its pair comes back); with @release (remove) lines in use get
 * direction NONE, while on freeze held outputs keep their level.
 */
static void vgpio_stop(struct virtio_gpio *vgpio, bool release)
{
	unsigned int i, n = 0, bit;
	struct vgpio_op *ops;
	struct vgpio_msg *m;

	if (!vgpio->req_vq)
		return;
	spin_lock_irq(&vgpio->req_lock);
	vgpio->closing = true;
	spin_unlock_irq(&vgpio->req_lock);
	/* Interrupt requests under way end before the teardown goes on. */
	mutex_lock(&vgpio->irq_lock);
	ops = kvcalloc(vgpio->ngpio, sizeof(*ops), GFP_KERNEL);
	for (i = 0; ops && i < vgpio->ngpio; i++) {
		if (!vgpio->lines[i].evt || vgpio->lines[i].dev_type == VIRTIO_GPIO_IRQ_TYPE_NONE)
			continue;
		vgpio_evt_enable(vgpio, &vgpio->lines[i], false);
		ops[n++] = VGPIO_OP(IRQ_TYPE, i, VIRTIO_GPIO_IRQ_TYPE_NONE);
	}
	vgpio_ops(vgpio, ops, n, true);
	mutex_unlock(&vgpio->irq_lock);
	/* NONE gives the pairs back (INVALID). */
	wait_event_timeout(vgpio->evt_wq, !READ_ONCE(vgpio->evt_owned), vgpio_timeout(vgpio, true));
	for (i = 0, n = 0; ops && release && i < vgpio->ngpio; i++)
		if (vgpio->lines[i].held || vgpio->lines[i].active)
			ops[n++] = VGPIO_OP(SET_DIRECTION, i, VIRTIO_GPIO_DIRECTION_NONE);
	vgpio_ops(vgpio, ops, n, true);
	kvfree(ops);

	spin_lock_irq(&vgpio->req_lock);
	vgpio->broken = true;
	spin_unlock_irq(&vgpio->req_lock);
	/* After the reset no callback runs and the device owns nothing. */
	virtio_reset_device(vgpio->vdev);
	cancel_delayed_work_sync(&vgpio->resync);
	spin_lock_irq(&vgpio->req_lock);
	while ((m = virtqueue_detach_unused_buf(vgpio->req_vq)))
		vgpio_batch_put(m->b);
	vgpio->req_vq = NULL;
	wake_up_all(&vgpio->space_wq);
	spin_unlock_irq(&vgpio->req_lock);

	mutex_lock(&vgpio->irq_lock);
	spin_lock_irq(&vgpio->evq_lock);
	while (vgpio->evt_vq && virtqueue_detach_unused_buf(vgpio->evt_vq))
		;
	vgpio->evt_vq = NULL;
	INIT_LIST_HEAD(&vgpio->evt_waiting);
	vgpio->evt_owned = 0;
	for (i = 0; i < vgpio->ngpio; i++) {
		for (bit = VGPIO_ENABLED; bit < VGPIO_MASKED; bit++)
			clear_bit(bit, &vgpio->lines[i].flags);
		INIT_LIST_HEAD(&vgpio->lines[i].evt_wait);
		vgpio->lines[i].dev_type = VGPIO_UNKNOWN;
	}
	spin_unlock_irq(&vgpio->evq_lock);
	mutex_unlock(&vgpio->irq_lock);
	vgpio->vdev->config->del_vqs(vgpio->vdev);
}

/* Probe-time helpers */

/*
 * Fetch the line names: one not 7-bit printable, or missing as the block
 * ends early, leaves its line unnamed (one warning). Names repeated in the
 * chip are passed on: gpiolib takes them, a lookup finds the first.
 */
static void vgpio_read_names(struct virtio_gpio *vgpio, u32 size)
{
	struct device *dev = &vgpio->vdev->dev;
	unsigned int i, bad = 0, missing = 0;
	char *buf, *p, *end, *nul;
	struct vgpio_batch *b;
	const char **names;
	int ret;

	if (size > VGPIO_NAMES_MAX) {
		dev_warn(dev, "line names block of %u bytes (over %u): lines are unnamed\n",
			 size, VGPIO_NAMES_MAX);
		return;
	}
	/* Memory the device writes: linear, never vmalloc. */
	buf = kzalloc(size + 1, GFP_KERNEL | __GFP_NOWARN);
	b = buf ? vgpio_batch_alloc(1) : NULL;
	if (!b) {
		kfree(buf);
		dev_warn(dev, "no memory for %u bytes of line names: lines are unnamed\n", size);
		return;
	}
	b->msg[0].resp = buf;
	b->msg[0].resp_len = size + 1;
	b->msg[0].req.type = cpu_to_le16(VIRTIO_GPIO_MSG_GET_NAMES);
	ret = vgpio_xfer(vgpio, b, false) ?: vgpio_check(vgpio, &b->msg[0]);
	/* Answered, the block is ours; else it goes with the batch. */
	spin_lock_irq(&vgpio->req_lock);
	if (!ret)
		b->msg[0].resp = &b->msg[0].res;
	vgpio_batch_put(b);
	spin_unlock_irq(&vgpio->req_lock);
	if (ret) {
		dev_warn(dev, "cannot read line names (%d): lines are unnamed\n", ret);
		return;
	}

	names = kvcalloc(vgpio->ngpio, sizeof(*names), GFP_KERNEL);
	if (!names)
		goto err;
	p = buf + 1;
	end = p + size;
	for (i = 0; i < vgpio->ngpio; i++, p = nul + 1) {
		nul = p < end ? memchr(p, '\0', end - p) : NULL;
		if (!nul) {
			missing = vgpio->ngpio - i;
			break;
		}
		names[i] = p;
		while (p < nul && *p >= 0x20 && *p <= 0x7e)
			p++;
		bad += p < nul;
		if (p < nul || nul == names[i])
			names[i] = NULL;
	}
	if (!missing && memchr_inv(p, '\0', end - p))
		bad++;
	if (bad || missing)
		dev_warn(dev, "line names: %u invalid or stray, %u missing: those lines are unnamed\n",
			 bad, missing);
	vgpio->names = names;
	vgpio->names_buf = buf;
	return;
err:
	kfree(buf);
}

/*
 * With a firmware node (device tree, ACPI) the chip keeps it for consumers
 * and hogs, and its gpio-line-names win over the device's. Else the names go
 * in a software node, which keeps a copy: &gpio_chip.names is checked
 * against every line of every chip, one name at a time (minutes for 65535).
 */
static void vgpio_use_names(struct virtio_gpio *vgpio)
{
	struct property_entry props[] = {
		PROPERTY_ENTRY_STRING_ARRAY_LEN("gpio-line-names", vgpio->names, vgpio->ngpio),
		{ }
	};
	struct fwnode_handle *fwnode;
	unsigned int i;

	if (dev_fwnode(&vgpio->vdev->dev)) {
		vgpio->gc.names = vgpio->names;
		return;
	}
	/* A property cannot hold NULL: an unnamed line is "". */
	for (i = 0; i < vgpio->ngpio; i++)
		if (!vgpio->names[i])
			vgpio->names[i] = "";
	fwnode = fwnode_create_software_node(props, NULL);
	if (IS_ERR(fwnode))
		dev_warn(&vgpio->vdev->dev, "cannot pass line names on: %ld\n", PTR_ERR(fwnode));
	else
		vgpio->swnode = fwnode;
	vgpio->gc.fwnode = vgpio->swnode;
	kvfree(vgpio->names);
	vgpio->names = NULL;
	kfree(vgpio->names_buf);
	vgpio->names_buf = NULL;
}

/*
 * Read every line's direction, a ring's worth at a time, so gpiolib's
 * question for each line costs nothing. A line whose direction the device
 * will not tell, or not in time (once, not timeout_ms per line), is NONE.
 */
static int vgpio_read_directions(struct virtio_gpio *vgpio)
{
	unsigned int i, lost = 0;
	struct vgpio_op *ops;
	int ret = 0;

	ops = kvcalloc(vgpio->ngpio, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	for (i = 0; i < vgpio->ngpio; i++)
		ops[i] = VGPIO_OP(GET_DIRECTION, i, 0);
	vgpio_ops(vgpio, ops, vgpio->ngpio, false);
	for (i = 0; i < vgpio->ngpio; i++) {
		if (vgpio->lines[i].dir != VGPIO_UNKNOWN)
			continue;
		vgpio->lines[i].dir = VIRTIO_GPIO_DIRECTION_NONE;
		ret = lost++ ? ret : ops[i].ret;
	}
	if (lost)
		dev_warn(&vgpio->vdev->dev, "%u lines' directions not read (%d): taken as NONE\n",
			 lost, ret);
	kvfree(ops);
	return ret == -ENOMEM || ret == -ENODEV ? ret : 0;
}

static void vgpio_free(struct virtio_gpio *vgpio)
{
	unsigned int i;

	for (i = 0; i < vgpio->ngpio; i++)
		kfree(vgpio->lines[i].evt);
	kvfree(vgpio->lines);
	kvfree(vgpio->names);
	kfree(vgpio->names_buf);
	if (vgpio->swnode)
		fwnode_remove_software_node(vgpio->swnode);
}

/* The driver */

static int virtio_gpio_probe(struct virtio_device *vdev)
{
	struct device *dev = &vdev->dev;
	struct virtio_gpio *vgpio;
	u32 names_size;
	unsigned int i;
	u16 ngpio;
	int ret;

	virtio_cread_le(vdev, struct virtio_gpio_config, ngpio, &ngpio);
	virtio_cread_le(vdev, struct virtio_gpio_config, gpio_names_size, &names_size);
	if (!ngpio) {
		dev_err(dev, "the device has no GPIO lines\n");
		return -EINVAL;
	}

	vgpio = devm_kzalloc(dev, sizeof(*vgpio), GFP_KERNEL);
	if (!vgpio)
		return -ENOMEM;
	vgpio->vdev = vdev;
	vgpio->ngpio = ngpio;
	spin_lock_init(&vgpio->req_lock);
	init_waitqueue_head(&vgpio->space_wq);
	spin_lock_init(&vgpio->evq_lock);
	INIT_LIST_HEAD(&vgpio->evt_waiting);
	init_waitqueue_head(&vgpio->evt_wq);
	INIT_DELAYED_WORK(&vgpio->resync, vgpio_resync_work);
	mutex_init(&vgpio->irq_lock);
	vgpio->lines = kvcalloc(ngpio, sizeof(*vgpio->lines), GFP_KERNEL);
	if (!vgpio->lines)
		return -ENOMEM;
	/* A device may keep what an earlier driver left it: all unknown. */
	for (i = 0; i < ngpio; i++) {
		vgpio->lines[i] = (struct vgpio_line){ .dir = VGPIO_UNKNOWN,
			.dev_type = VGPIO_UNKNOWN, .flags = BIT(VGPIO_MASKED) };
		INIT_LIST_HEAD(&vgpio->lines[i].evt_wait);
	}

	vdev->priv = vgpio;
	ret = vgpio_start(vgpio);
	if (ret)
		goto err_free;
	if (names_size)
		vgpio_read_names(vgpio, names_size);
	if (vgpio->names)
		vgpio_use_names(vgpio);
	ret = vgpio_read_directions(vgpio);
	if (ret)
		goto err_stop;

	vgpio->gc.label = devm_kasprintf(dev, GFP_KERNEL, "gpio-virtio.%s",
					 dev_name(dev->parent ?: dev));
	ret = -ENOMEM;
	if (!vgpio->gc.label)
		goto err_stop;
	vgpio->gc.parent = dev;
	vgpio->gc.base = -1;
	vgpio->gc.ngpio = ngpio;
	vgpio->gc.can_sleep = true;
	vgpio->gc.request = virtio_gpio_request;
	vgpio->gc.free = virtio_gpio_free;
	vgpio->gc.get_direction = virtio_gpio_get_direction;
	vgpio->gc.direction_input = virtio_gpio_direction_input;
	vgpio->gc.direction_output = virtio_gpio_direction_output;
	vgpio->gc.get = virtio_gpio_get;
	vgpio->gc.set = virtio_gpio_set;
	vgpio->gc.get_multiple = virtio_gpio_get_multiple;
	vgpio->gc.set_multiple = virtio_gpio_set_multiple;
	vgpio->gc.dbg_show = virtio_gpio_dbg_show;
	if (vgpio->evt_vq) {
		gpio_irq_chip_set_chip(&vgpio->gc.irq, &vgpio_irq_chip);
		vgpio->gc.irq.handler = handle_level_irq;
		vgpio->gc.irq.default_type = IRQ_TYPE_NONE;
	} else {
		dev_info(dev, "the device does not offer VIRTIO_GPIO_F_IRQ: no interrupts\n");
	}

	ret = gpiochip_add_data(&vgpio->gc, vgpio);
	if (!ret)
		return 0;
	dev_err(dev, "cannot add the GPIO chip: %d\n", ret);
err_stop:
	vgpio_stop(vgpio, false);
err_free:
	vgpio_free(vgpio);
	vdev->priv = NULL;
	return ret;
}

static void virtio_gpio_remove(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;

	/* Fail what is still in flight, so gpiolib does not wait for it. */
	vgpio_stop(vgpio, true);
	gpiochip_remove(&vgpio->gc);
	/* Requests that raced the removal have failed; let them leave. */
	wait_var_event(&vgpio->users, !atomic_read(&vgpio->users));
	vgpio_free(vgpio);
}

#ifdef CONFIG_PM_SLEEP
static int virtio_gpio_freeze(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;

	vgpio_stop(vgpio, false);
	return 0;
}

/*
 * Give back what consumers hold: output values, then directions (an output
 * whose value is refused stays off), then trigger types.
 */
static int virtio_gpio_restore(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;
	unsigned int i, n, pass;
	struct vgpio_line *line;
	struct vgpio_op *ops;
	int ret;

	ret = vgpio_start(vgpio);
	if (ret)
		return ret;
	ops = kvcalloc(vgpio->ngpio, sizeof(*ops), GFP_KERNEL);
	for (pass = 0; ops && pass < 2; pass++) {
		for (i = 0, n = 0; i < vgpio->ngpio; i++) {
			line = &vgpio->lines[i];
			if (!line->held)
				WRITE_ONCE(line->dir, line->active ?
					   VIRTIO_GPIO_DIRECTION_IN : VGPIO_UNKNOWN);
			if (line->dir == VIRTIO_GPIO_DIRECTION_OUT && !pass)
				ops[n++] = VGPIO_OP(SET_VALUE, i, line->val);
			else if (line->dir != VGPIO_UNKNOWN && pass)
				ops[n++] = VGPIO_OP(SET_DIRECTION, i, line->dir);
		}
		ret |= vgpio_ops(vgpio, ops, n, false);
		for (i = 0; !pass && i < n; i++)
			if (ops[i].ret)
				WRITE_ONCE(vgpio->lines[ops[i].line].dir, VGPIO_UNKNOWN);
	}
	if (!ops || ret)
		dev_warn(&vdev->dev, "the lines' state was not all restored\n");
	kvfree(ops);

	for (i = 0; vgpio->evt_vq && i < vgpio->ngpio; i++) {
		if (!vgpio->lines[i].active)
			continue;
		mutex_lock(&vgpio->irq_lock);
		vgpio_irq_sync(vgpio, i);
		mutex_unlock(&vgpio->irq_lock);
		vgpio_evt_update(vgpio, &vgpio->lines[i]);
	}
	return 0;
}
#endif

static const struct virtio_device_id id_table[] = {
	{ VIRTIO_ID_GPIO, VIRTIO_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(virtio, id_table);

static const unsigned int features[] = {
	VIRTIO_GPIO_F_IRQ,
};

static struct virtio_driver virtio_gpio_driver = {
	.feature_table		= features,
	.feature_table_size	= ARRAY_SIZE(features),
	.id_table		= id_table,
	.probe			= virtio_gpio_probe,
	.remove			= virtio_gpio_remove,
#ifdef CONFIG_PM_SLEEP
	.freeze			= virtio_gpio_freeze,
	.restore		= virtio_gpio_restore,
#endif
	.driver			= {
		.name		= "gpio-virtio",
	},
};
module_virtio_driver(virtio_gpio_driver);

MODULE_DESCRIPTION("GPIO lines and interrupts of virtio GPIO devices");
MODULE_LICENSE("GPL");
