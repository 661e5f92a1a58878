// SPDX-License-Identifier: GPL-2.0
/*
 * GPIO lines and their interrupts on a virtio GPIO device (virtio
 * specification 1.2 and later, "GPIO Device", device ID 41).
 *
 * Every line operation is one request on the request virtqueue; replies are
 * matched to requests by token. Interrupts use the event virtqueue: one
 * buffer pair per line, owned by the device while the line is unmasked.
 */

#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/gpio/driver.h>
#include <linux/irq.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/property.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpio.h>
#include <linux/virtio_ids.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

static unsigned int timeout_ms = 1000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "Longest wait for a reply or for ring space in ms (0: no limit)");

/* Largest names block accepted: per line, and in total. */
#define VGPIO_NAME_MAX_PER_LINE		64
#define VGPIO_NAMES_MAX			SZ_1M

/* Lines whose direction is read per batch while the chip is added. */
#define VGPIO_DIR_BATCH			256

enum { VGPIO_VQ_REQUEST, VGPIO_VQ_EVENT };

/**
 * enum vgpio_msg_state - who owns a request
 * @VGPIO_MSG_IDLE: not queued yet, owned by the submitter
 * @VGPIO_MSG_QUEUED: owned by the device, the submitter waits
 * @VGPIO_MSG_DONE: returned by the device or reclaimed, owned by the submitter
 * @VGPIO_MSG_TIMED_OUT: owned by the device, past its deadline; the
 *	submitter was woken and gives it up
 * @VGPIO_MSG_ABANDONED: owned by the device, nobody waits; freed on return
 */
enum vgpio_msg_state {
	VGPIO_MSG_IDLE,
	VGPIO_MSG_QUEUED,
	VGPIO_MSG_DONE,
	VGPIO_MSG_TIMED_OUT,
	VGPIO_MSG_ABANDONED,
};

/**
 * struct vgpio_msg - one request and its response
 * @done: completed when the device returns the buffers or they are reclaimed
 * @state: the owner, &enum vgpio_msg_state, under &virtio_gpio.req_lock
 * @err: 0, or why the request ended without a reply
 * @len: number of bytes the device wrote
 * @line: the line the request is for
 * @deadline: in jiffies, when the request times out (if on a deadline list)
 * @node: in &virtio_gpio.inflight while it has a deadline, under req_lock
 * @resp: the device-writable buffer: @res, or a separate names buffer
 * @resp_len: size of @resp
 * @req: the device-readable request
 * @res: the device-writable response of line requests
 *
 * Allocated per request, so a request that timed out can stay owned by the
 * device: the done callback frees it when the late reply arrives. The
 * submitter waits without a timer of its own: one timer per device ends
 * the requests whose deadline passed (see vgpio_deadline_expired()). @req and
 * @res each start a cache line of their own, apart from the CPU's fields.
 */
struct vgpio_msg {
	struct completion done;
	enum vgpio_msg_state state;
	int err;
	unsigned int len;
	u16 line;
	unsigned long deadline;
	struct list_head node;
	void *resp;
	u32 resp_len;
	struct virtio_gpio_request req ____cacheline_aligned;
	struct virtio_gpio_response res ____cacheline_aligned;
};

/**
 * struct vgpio_evt - the event buffer pair of one line
 * @req: device-readable, names the line
 * @res: device-writable, the event status
 */
struct vgpio_evt {
	struct virtio_gpio_irq_request req ____cacheline_aligned;
	struct virtio_gpio_irq_response res ____cacheline_aligned;
};

/**
 * struct vgpio_line - per-line state
 * @requests: requests sent for the line
 * @errors: requests that failed other than by timeout, bad events
 * @timeouts: requests that timed out
 * @irqs: interrupts delivered
 * @dir: last direction the device accepted, restored after resume
 * @val: last value the device accepted, restored after resume
 * @type: trigger type the irq core asked for, under &virtio_gpio.irq_lock
 * @rejected: trigger types the device refused (bit per type), under irq_lock
 * @probed: @rejected is known for every type, under irq_lock
 * @reprobe: the direction changed since @rejected was learned
 * @active: an interrupt consumer holds the line, under irq_lock
 * @dev_type: trigger type the device has, under irq_lock
 * @enabled: the device has a trigger type, under &virtio_gpio.evt_lock
 * @masked: the interrupt is masked, under evt_lock
 * @queued: @evt is owned by the device, under evt_lock
 * @evt_node: in &virtio_gpio.evt_queue while waiting to be queued, under
 *	evt_lock
 * @evt: event buffers, allocated when an interrupt is first requested
 */
struct vgpio_line {
	atomic_t requests;
	atomic_t errors;
	atomic_t timeouts;
	atomic_t irqs;
	u8 dir;
	u8 val;
	u8 type;
	u16 rejected;
	bool probed;
	bool reprobe;
	bool active;
	u8 dev_type;
	bool enabled;
	bool masked;
	bool queued;
	struct list_head evt_node;
	struct vgpio_evt *evt;
};

/**
 * struct virtio_gpio - one virtio GPIO device
 * @vdev: the virtio device
 * @gc: the GPIO chip
 * @irqc: the interrupt chip of this device
 * @ngpio: number of lines
 * @lines: per-line state, @ngpio entries
 * @names: validated line names, "" for unnamed lines; freed after probe
 * @names_buf: the names response the @names point into; freed after probe
 * @swnode: software node carrying the names to gpiolib, or NULL
 * @dir_cached: get_direction() answers from @lines while the chip is added
 * @has_irq: VIRTIO_GPIO_F_IRQ was negotiated
 * @req_vq: the request virtqueue
 * @req_lock: protects @req_vq (add, kick, get_buf, detach), the state of
 *	every request, @broken, @space_gen and @inflight
 * @broken: the virtqueues are gone; new requests fail
 * @space_gen: counts buffers returned on @req_vq, to wait for ring space
 * @space_wq: where requests wait for ring space
 * @inflight: requests in flight with a deadline, under @req_lock
 * @deadline_timer: fires at the earliest deadline in @inflight
 * @evt_vq: the event virtqueue, or NULL
 * @evq_lock: protects @evt_vq (add, kick, get_buf, detach)
 * @evt_lock: protects the event fields of @lines, @evt_queue and @evt_live
 * @evt_queue: lines whose event buffers wait to be queued, oldest first, so
 *	that when the ring is full every line gets its turn
 * @evt_live: @evt_work may be scheduled and may use @evt_vq
 * @evt_work: queues pending event buffers (never from the irq core's locks)
 * @irq_lock: the irq bus lock; protects the trigger fields of @lines
 * @debugfs: this device's debugfs directory
 */
struct virtio_gpio {
	struct virtio_device *vdev;
	struct gpio_chip gc;
	struct irq_chip irqc;
	unsigned int ngpio;
	struct vgpio_line *lines;
	const char **names;
	u8 *names_buf;
	struct fwnode_handle *swnode;
	bool dir_cached;
	bool has_irq;

	struct virtqueue *req_vq;
	spinlock_t req_lock; /* requestq, request states, broken, space_gen, inflight */
	bool broken;
	unsigned long space_gen;
	wait_queue_head_t space_wq;
	struct list_head inflight;
	struct timer_list deadline_timer;

	struct virtqueue *evt_vq;
	spinlock_t evq_lock; /* eventq add, kick, get_buf and detach */
	raw_spinlock_t evt_lock; /* line event state, evt_queue, evt_live */
	struct list_head evt_queue;
	bool evt_live;
	struct work_struct evt_work;
	struct mutex irq_lock; /* irq bus lock: line trigger state */

	struct dentry *debugfs;
};

static struct dentry *vgpio_debugfs_root;

static struct vgpio_msg *vgpio_msg_alloc(u16 type, u16 line, u32 value)
{
	struct vgpio_msg *msg;

	msg = kzalloc_obj(*msg, GFP_KERNEL);
	if (!msg)
		return NULL;

	init_completion(&msg->done);
	INIT_LIST_HEAD(&msg->node);
	msg->line = line;
	msg->req.type = cpu_to_le16(type);
	msg->req.gpio = cpu_to_le16(line);
	msg->req.value = cpu_to_le32(value);
	msg->resp = &msg->res;
	msg->resp_len = sizeof(msg->res);
	return msg;
}

static void vgpio_msg_free(struct vgpio_msg *msg)
{
	if (msg->resp != &msg->res)
		kfree(msg->resp);
	kfree(msg);
}

/**
 * vgpio_msg_finish() - end a request the device no longer owns
 * @vgpio: the device
 * @msg: the request
 * @len: bytes the device wrote
 * @err: 0 for a reply, else why there is none
 *
 * Wakes the waiter, or frees the request when its waiter gave up.
 */
static void vgpio_msg_finish(struct virtio_gpio *vgpio, struct vgpio_msg *msg,
			     unsigned int len, int err)
{
	lockdep_assert_held(&vgpio->req_lock);

	list_del_init(&msg->node);
	if (msg->state == VGPIO_MSG_ABANDONED) {
		vgpio_msg_free(msg);
		return;
	}
	msg->len = len;
	msg->err = err;
	msg->state = VGPIO_MSG_DONE;
	complete(&msg->done);
}

static void vgpio_request_done(struct virtqueue *vq)
{
	struct virtio_gpio *vgpio = vq->vdev->priv;
	struct vgpio_msg *msg;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	while ((msg = virtqueue_get_buf(vq, &len))) {
		vgpio_msg_finish(vgpio, msg, len, 0);
		vgpio->space_gen++;
	}
	spin_unlock_irqrestore(&vgpio->req_lock, flags);

	wake_up_all(&vgpio->space_wq);
}

static long vgpio_timeout(void)
{
	unsigned int ms = READ_ONCE(timeout_ms);

	return ms ? msecs_to_jiffies(ms) : MAX_SCHEDULE_TIMEOUT;
}

/**
 * vgpio_deadline_expired() - end the waits of requests past their deadline
 * @t: &virtio_gpio.deadline_timer
 *
 * The requests stay owned by the device (a late reply frees them); their
 * submitters wake and return -ETIMEDOUT. Re-arms for the next deadline.
 */
static void vgpio_deadline_expired(struct timer_list *t)
{
	struct virtio_gpio *vgpio = timer_container_of(vgpio, t, deadline_timer);
	struct vgpio_msg *msg, *tmp;
	unsigned long flags, next = 0, now = jiffies;
	bool rearm = false;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	list_for_each_entry_safe(msg, tmp, &vgpio->inflight, node) {
		if (time_after(msg->deadline, now)) {
			/* timeout_ms may change: deadlines are not sorted. */
			if (!rearm || time_before(msg->deadline, next))
				next = msg->deadline;
			rearm = true;
			continue;
		}
		list_del_init(&msg->node);
		msg->state = VGPIO_MSG_TIMED_OUT;
		complete(&msg->done);
	}
	if (rearm)
		timer_reduce(&vgpio->deadline_timer, next);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
}

/**
 * vgpio_submit() - queue requests, as many per kick as the ring holds
 * @vgpio: the device
 * @msgs: the requests
 * @n: number of requests
 * @queued: set to the number of requests the device now owns
 *
 * Requests that find the ring full wait for space, killable and bounded by
 * timeout_ms each time.
 *
 * Return: 0 when every request was queued, else a negative errno.
 */
static int vgpio_submit(struct virtio_gpio *vgpio, struct vgpio_msg **msgs,
			unsigned int n, unsigned int *queued)
{
	struct scatterlist req_sg, res_sg, *sgs[2] = { &req_sg, &res_sg };
	long tmo = vgpio_timeout();
	bool timed = tmo != MAX_SCHEDULE_TIMEOUT;
	unsigned long flags, gen, deadline;
	unsigned int i = 0, added;
	long left;
	int ret = 0;

	while (i < n) {
		deadline = jiffies + (timed ? tmo : 0);
		added = 0;
		spin_lock_irqsave(&vgpio->req_lock, flags);
		while (i < n && !vgpio->broken) {
			struct vgpio_msg *msg = msgs[i];

			sg_init_one(&req_sg, &msg->req, sizeof(msg->req));
			sg_init_one(&res_sg, msg->resp, msg->resp_len);
			ret = virtqueue_add_sgs(vgpio->req_vq, sgs, 1, 1, msg,
						GFP_ATOMIC);
			if (ret)
				break;
			msg->state = VGPIO_MSG_QUEUED;
			if (timed) {
				msg->deadline = deadline;
				list_add_tail(&msg->node, &vgpio->inflight);
			}
			atomic_inc(&vgpio->lines[msg->line].requests);
			added++;
			i++;
		}
		if (vgpio->broken)
			ret = -ENODEV;
		if (added) {
			/* A no-op while an earlier deadline is armed. */
			if (timed)
				timer_reduce(&vgpio->deadline_timer, deadline);
			virtqueue_kick(vgpio->req_vq);
		}
		gen = vgpio->space_gen;
		spin_unlock_irqrestore(&vgpio->req_lock, flags);

		if (i == n || ret != -ENOSPC)
			break;

		left = wait_event_killable_timeout(vgpio->space_wq,
						   READ_ONCE(vgpio->space_gen) != gen ||
						   READ_ONCE(vgpio->broken),
						   tmo);
		if (!left) {
			ret = -ETIMEDOUT;
			atomic_inc(&vgpio->lines[msgs[i]->line].timeouts);
			break;
		}
		if (left < 0) {
			ret = -EINTR;
			break;
		}
		ret = 0;
	}

	*queued = i;
	return i == n ? 0 : ret;
}

/**
 * vgpio_wait() - wait for the reply to one queued request
 * @vgpio: the device
 * @msgp: the request; set to NULL when it is left to the device
 *
 * The wait ends with the reply, with the request's deadline (the device's
 * deadline timer), or when the task is killed. A request that timed out, or
 * whose waiter is killed, stays owned by the device and is freed by the done
 * callback when the reply lands.
 *
 * Return: 0 when the request ended (see &vgpio_msg.err), -ETIMEDOUT or -EINTR.
 */
static int vgpio_wait(struct virtio_gpio *vgpio, struct vgpio_msg **msgp)
{
	struct vgpio_msg *msg = *msgp;
	unsigned long flags;
	int ret;

	ret = wait_for_completion_killable(&msg->done);

	spin_lock_irqsave(&vgpio->req_lock, flags);
	if (msg->state == VGPIO_MSG_QUEUED || msg->state == VGPIO_MSG_TIMED_OUT) {
		ret = msg->state == VGPIO_MSG_QUEUED ? -EINTR : -ETIMEDOUT;
		list_del_init(&msg->node);
		msg->state = VGPIO_MSG_ABANDONED;
		spin_unlock_irqrestore(&vgpio->req_lock, flags);
		*msgp = NULL;
		return ret;
	}
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
	return 0;
}

/**
 * vgpio_result() - check the reply to a request
 * @vgpio: the device
 * @msg: the ended request
 *
 * Return: 0 for a well-formed OK reply, -EIO for a device error or a reply
 * of the wrong size, or the error that ended the request.
 */
static int vgpio_result(struct virtio_gpio *vgpio, struct vgpio_msg *msg)
{
	u8 status = *(u8 *)msg->resp;

	if (msg->err)
		return msg->err;
	if (!msg->len || status != VIRTIO_GPIO_STATUS_OK)
		return -EIO;
	if (msg->len != msg->resp_len) {
		dev_warn_ratelimited(&vgpio->vdev->dev,
				     "line %u: reply of %u bytes, expected %u\n",
				     msg->line, msg->len, msg->resp_len);
		return -EIO;
	}
	return 0;
}

/**
 * vgpio_transfer() - send requests and wait for every reply
 * @vgpio: the device
 * @msgs: the requests; entries left to the device are set to NULL
 * @n: number of requests
 *
 * All requests are put in flight before the first wait, with one kick per
 * batch that fits the ring. The caller frees the non-NULL entries.
 *
 * Return: 0 when every request was answered OK, else the first error.
 */
static int vgpio_transfer(struct virtio_gpio *vgpio, struct vgpio_msg **msgs,
			  unsigned int n)
{
	unsigned int queued, i;
	int ret, err;

	ret = vgpio_submit(vgpio, msgs, n, &queued);

	for (i = 0; i < queued; i++) {
		struct vgpio_line *line = &vgpio->lines[msgs[i]->line];

		err = vgpio_wait(vgpio, &msgs[i]);
		if (!err)
			err = vgpio_result(vgpio, msgs[i]);
		if (err == -ETIMEDOUT)
			atomic_inc(&line->timeouts);
		else if (err && err != -EINTR)
			atomic_inc(&line->errors);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

static void vgpio_note_state(struct virtio_gpio *vgpio, u16 type, u16 line,
			     u32 value)
{
	if (type == VIRTIO_GPIO_MSG_SET_DIRECTION) {
		WRITE_ONCE(vgpio->lines[line].dir, value);
		/* A device may refuse interrupts by direction: ask again. */
		WRITE_ONCE(vgpio->lines[line].reprobe, true);
	} else if (type == VIRTIO_GPIO_MSG_SET_VALUE) {
		WRITE_ONCE(vgpio->lines[line].val, value);
	}
}

/**
 * vgpio_req() - one request, waited for
 * @vgpio: the device
 * @type: VGPIO_MSG_*
 * @line: the line
 * @value: the request argument
 * @rvalue: where the response value goes, or NULL
 *
 * Return: 0 or a negative errno (-EIO for a device error).
 */
static int vgpio_req(struct virtio_gpio *vgpio, u16 type, u16 line, u32 value,
		     u8 *rvalue)
{
	struct vgpio_msg *msg;
	int ret;

	msg = vgpio_msg_alloc(type, line, value);
	if (!msg)
		return -ENOMEM;

	ret = vgpio_transfer(vgpio, &msg, 1);
	if (!ret) {
		vgpio_note_state(vgpio, type, line, value);
		if (rvalue)
			*rvalue = msg->res.value;
	}
	if (msg)
		vgpio_msg_free(msg);
	return ret;
}

/**
 * vgpio_req_lines() - the same request for every line in a mask, at once
 * @vgpio: the device
 * @type: VIRTIO_GPIO_MSG_GET_VALUE or VIRTIO_GPIO_MSG_SET_VALUE
 * @mask: the lines
 * @bits: values to set, or where values read are stored
 *
 * Return: 0 or the first error.
 */
static int vgpio_req_lines(struct virtio_gpio *vgpio, u16 type,
			   unsigned long *mask, unsigned long *bits)
{
	bool set = type == VIRTIO_GPIO_MSG_SET_VALUE;
	struct vgpio_msg **msgs;
	unsigned int n, i = 0, line;
	int ret = -ENOMEM;

	n = bitmap_weight(mask, vgpio->ngpio);
	if (!n)
		return 0;

	msgs = kvcalloc(n, sizeof(*msgs), GFP_KERNEL);
	if (!msgs)
		return -ENOMEM;

	for_each_set_bit(line, mask, vgpio->ngpio) {
		msgs[i] = vgpio_msg_alloc(type, line,
					  set ? test_bit(line, bits) : 0);
		if (!msgs[i])
			goto out;
		i++;
	}

	ret = vgpio_transfer(vgpio, msgs, n);
	for (i = 0; !ret && i < n; i++) {
		line = msgs[i]->line;
		if (set)
			vgpio_note_state(vgpio, type, line, test_bit(line, bits));
		else
			__assign_bit(line, bits, msgs[i]->res.value);
	}
out:
	for (i = 0; i < n; i++)
		if (msgs[i])
			vgpio_msg_free(msgs[i]);
	kvfree(msgs);
	return ret;
}

static void virtio_gpio_free(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_DIRECTION, offset, VIRTIO_GPIO_DIRECTION_NONE,
		  NULL);
}

static int virtio_gpio_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	u8 dir;
	int ret;

	if (vgpio->dir_cached) {
		dir = vgpio->lines[offset].dir;
	} else {
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_GET_DIRECTION, offset, 0, &dir);
		if (ret)
			return ret;
	}

	/* An inactive line (NONE) drives nothing: report it as an input. */
	switch (dir) {
	case VIRTIO_GPIO_DIRECTION_OUT:
		return GPIO_LINE_DIRECTION_OUT;
	case VIRTIO_GPIO_DIRECTION_IN:
	case VIRTIO_GPIO_DIRECTION_NONE:
		return GPIO_LINE_DIRECTION_IN;
	default:
		dev_warn_ratelimited(&vgpio->vdev->dev,
				     "line %u: unknown direction %u\n",
				     offset, dir);
		return -EIO;
	}
}

static int virtio_gpio_direction_input(struct gpio_chip *gc,
				       unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	return vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_DIRECTION, offset,
			 VIRTIO_GPIO_DIRECTION_IN, NULL);
}

static int virtio_gpio_direction_output(struct gpio_chip *gc,
					unsigned int offset, int value)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	int ret;

	/* The value first, so the line never drives a stale level. */
	ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_VALUE, offset, !!value, NULL);
	if (ret)
		return ret;

	return vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_DIRECTION, offset,
			 VIRTIO_GPIO_DIRECTION_OUT, NULL);
}

static int virtio_gpio_get(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	u8 value;
	int ret;

	ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_GET_VALUE, offset, 0, &value);
	return ret ? ret : !!value;
}

static int virtio_gpio_set(struct gpio_chip *gc, unsigned int offset, int value)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	return vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_VALUE, offset, !!value, NULL);
}

static int virtio_gpio_get_multiple(struct gpio_chip *gc, unsigned long *mask,
				    unsigned long *bits)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	return vgpio_req_lines(vgpio, VIRTIO_GPIO_MSG_GET_VALUE, mask, bits);
}

static int virtio_gpio_set_multiple(struct gpio_chip *gc, unsigned long *mask,
				    unsigned long *bits)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);

	return vgpio_req_lines(vgpio, VIRTIO_GPIO_MSG_SET_VALUE, mask, bits);
}

/* Interrupts */

static struct virtio_gpio *irqd_to_vgpio(struct irq_data *d)
{
	return gpiochip_get_data(irq_data_get_irq_chip_data(d));
}

/**
 * vgpio_evt_want_locked() - have a line's event buffers queued if they should be
 * @vgpio: the device
 * @hw: the line
 *
 * Queueing happens in &virtio_gpio.evt_work: the irq core calls us under its raw
 * spinlock, where the virtqueue (which may allocate) must not be touched.
 */
static void vgpio_evt_want_locked(struct virtio_gpio *vgpio, unsigned int hw)
{
	struct vgpio_line *line = &vgpio->lines[hw];

	lockdep_assert_held(&vgpio->evt_lock);

	if (!line->enabled || line->masked || line->queued)
		return;
	if (list_empty(&line->evt_node))
		list_add_tail(&line->evt_node, &vgpio->evt_queue);
	if (vgpio->evt_live)
		queue_work(system_highpri_wq, &vgpio->evt_work);
}

static void vgpio_evt_work(struct work_struct *work)
{
	struct virtio_gpio *vgpio = container_of(work, struct virtio_gpio,
						 evt_work);
	struct scatterlist req_sg, res_sg, *sgs[2] = { &req_sg, &res_sg };
	struct vgpio_line *line;
	unsigned int added = 0;
	unsigned long flags;
	bool ok;
	int ret;

	spin_lock_irqsave(&vgpio->evq_lock, flags);
	for (;;) {
		raw_spin_lock(&vgpio->evt_lock);
		if (!vgpio->evt_live || list_empty(&vgpio->evt_queue)) {
			raw_spin_unlock(&vgpio->evt_lock);
			break;
		}
		line = list_first_entry(&vgpio->evt_queue, struct vgpio_line,
					evt_node);
		list_del_init(&line->evt_node);
		ok = line->enabled && !line->masked && !line->queued && line->evt;
		if (ok)
			line->queued = true;
		raw_spin_unlock(&vgpio->evt_lock);
		if (!ok)
			continue;

		sg_init_one(&req_sg, &line->evt->req, sizeof(line->evt->req));
		sg_init_one(&res_sg, &line->evt->res, sizeof(line->evt->res));
		ret = virtqueue_add_sgs(vgpio->evt_vq, sgs, 1, 1, line,
					GFP_ATOMIC);
		if (ret) {
			/* First in line again when the device returns a buffer. */
			raw_spin_lock(&vgpio->evt_lock);
			line->queued = false;
			list_add(&line->evt_node, &vgpio->evt_queue);
			raw_spin_unlock(&vgpio->evt_lock);
			if (ret != -ENOSPC)
				dev_warn_ratelimited(&vgpio->vdev->dev,
						     "line %td: cannot queue event buffer: %d\n",
						     line - vgpio->lines, ret);
			break;
		}
		added++;
	}
	if (added)
		virtqueue_kick(vgpio->evt_vq);
	spin_unlock_irqrestore(&vgpio->evq_lock, flags);
}

static void vgpio_event_one(struct virtio_gpio *vgpio, struct vgpio_line *line,
			    unsigned int len)
{
	unsigned long idx = ((unsigned long)line - (unsigned long)vgpio->lines) /
			    sizeof(*line);
	struct device *dev = &vgpio->vdev->dev;
	bool deliver = false;
	unsigned long flags;
	u8 status;
	int ret;

	if ((unsigned long)line < (unsigned long)vgpio->lines ||
	    idx >= vgpio->ngpio || &vgpio->lines[idx] != line) {
		dev_warn_ratelimited(dev, "event with an unknown token\n");
		return;
	}

	status = line->evt->res.status;
	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	line->queued = false;
	if (len == sizeof(line->evt->res) &&
	    status == VIRTIO_GPIO_IRQ_STATUS_VALID && line->enabled)
		deliver = true;
	else
		vgpio_evt_want_locked(vgpio, idx);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);

	if (len != sizeof(line->evt->res) ||
	    (status != VIRTIO_GPIO_IRQ_STATUS_VALID &&
	     status != VIRTIO_GPIO_IRQ_STATUS_INVALID)) {
		atomic_inc(&line->errors);
		dev_warn_ratelimited(dev, "line %lu: bad event (status %u, %u bytes)\n",
				     idx, status, len);
		return;
	}
	if (!deliver)
		return;

	atomic_inc(&line->irqs);
	ret = generic_handle_domain_irq(vgpio->gc.irq.domain, idx);
	if (ret)
		dev_warn_ratelimited(dev, "line %lu: interrupt not handled: %d\n",
				     idx, ret);
}

static void vgpio_event_done(struct virtqueue *vq)
{
	struct virtio_gpio *vgpio = vq->vdev->priv;
	struct vgpio_line *line;
	unsigned long flags;
	unsigned int len;
	bool more;

	for (;;) {
		spin_lock_irqsave(&vgpio->evq_lock, flags);
		line = virtqueue_get_buf(vq, &len);
		spin_unlock_irqrestore(&vgpio->evq_lock, flags);
		if (!line)
			break;
		vgpio_event_one(vgpio, line, len);
	}

	/* Space was freed: queue the buffers that found the ring full. */
	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	more = vgpio->evt_live && !list_empty(&vgpio->evt_queue);
	if (more)
		queue_work(system_highpri_wq, &vgpio->evt_work);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
}

static void vgpio_evt_set_enabled(struct virtio_gpio *vgpio, unsigned int hw,
				  bool enabled)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->lines[hw].enabled = enabled;
	vgpio_evt_want_locked(vgpio, hw);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
}

/**
 * vgpio_irq_sync_line() - give the device the trigger type the irq core wants
 * @vgpio: the device
 * @hw: the line
 *
 * A change between two types goes through NONE, as the specification asks,
 * and the event buffers are queued only once the device has a type. A type
 * the device refuses (which vgpio_irq_probe_types() normally caught) is
 * remembered: the line stays disabled, and later requests for that type
 * fail in irq_set_type().
 */
static void vgpio_irq_sync_line(struct virtio_gpio *vgpio, unsigned int hw)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	struct device *dev = &vgpio->vdev->dev;
	u8 want = line->active ? line->type : VIRTIO_GPIO_IRQ_TYPE_NONE;
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	if (want == line->dev_type)
		return;

	if (line->dev_type != VIRTIO_GPIO_IRQ_TYPE_NONE) {
		vgpio_evt_set_enabled(vgpio, hw, false);
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_IRQ_TYPE, hw,
				VIRTIO_GPIO_IRQ_TYPE_NONE, NULL);
		if (ret && ret != -ENODEV)
			dev_warn_ratelimited(dev, "line %u: disabling the interrupt failed: %d\n",
					     hw, ret);
		line->dev_type = VIRTIO_GPIO_IRQ_TYPE_NONE;
	}
	if (want == VIRTIO_GPIO_IRQ_TYPE_NONE)
		return;

	ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_IRQ_TYPE, hw, want, NULL);
	if (ret) {
		if (ret == -EIO)
			line->rejected |= BIT(want);
		/* -ENODEV: the device is going away, nothing to report. */
		if (ret != -ENODEV)
			dev_warn(dev, "line %u: device refused interrupt type %#x: %d\n",
				 hw, want, ret);
		return;
	}
	line->dev_type = want;
	vgpio_evt_set_enabled(vgpio, hw, true);
}

/**
 * vgpio_irq_probe_types() - learn which trigger types the device refuses
 * @vgpio: the device
 * @hw: the line
 *
 * The irq core only lets irq_set_type() fail a request, and it runs where
 * no request can be sent. So when a line's interrupt is first requested,
 * every type is tried here (each followed by NONE, so nothing stays set;
 * the line has no event buffer queued, so no event can come of it), and
 * irq_set_type() refuses the types the device answered with ERR.
 */
static void vgpio_irq_probe_types(struct virtio_gpio *vgpio, unsigned int hw)
{
	static const u8 types[] = {
		VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING,
		VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH,
		VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW,
	};
	struct vgpio_line *line = &vgpio->lines[hw];
	unsigned int i;
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	if (READ_ONCE(line->reprobe)) {
		WRITE_ONCE(line->reprobe, false);
		line->probed = false;
		line->rejected = 0;
	}
	if (line->probed || line->dev_type != VIRTIO_GPIO_IRQ_TYPE_NONE)
		return;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (line->rejected & BIT(types[i]))
			continue;
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_IRQ_TYPE, hw, types[i],
				NULL);
		if (ret == -EIO) {
			line->rejected |= BIT(types[i]);
			continue;
		}
		if (ret)
			return;
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_IRQ_TYPE, hw,
				VIRTIO_GPIO_IRQ_TYPE_NONE, NULL);
		if (ret) {
			/* Unknown state: the next sync goes through NONE. */
			line->dev_type = types[i];
			return;
		}
	}
	line->probed = true;
}

static void vgpio_irq_mask(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	irq_hw_number_t hw = irqd_to_hwirq(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->lines[hw].masked = true;
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);

	gpiochip_disable_irq(&vgpio->gc, hw);
}

static void vgpio_irq_unmask(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	irq_hw_number_t hw = irqd_to_hwirq(d);
	unsigned long flags;

	gpiochip_enable_irq(&vgpio->gc, hw);

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->lines[hw].masked = false;
	vgpio_evt_want_locked(vgpio, hw);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
}

/*
 * The irq core resends an edge that came while the interrupt was disabled,
 * right after the unmask of enable_irq(). Hold the event buffers back until
 * the resent interrupt has been handled and unmasked again: otherwise an
 * edge the device latched meanwhile is delivered at once and merges with
 * the resent one in the consumer's threaded handler. Returning 0 lets the
 * core resend in software.
 */
static int vgpio_irq_retrigger(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->lines[irqd_to_hwirq(d)].masked = true;
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
	return 0;
}

static int vgpio_irq_set_type(struct irq_data *d, unsigned int type)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	struct vgpio_line *line = &vgpio->lines[irqd_to_hwirq(d)];
	u8 vtype;

	lockdep_assert_held(&vgpio->irq_lock);

	switch (type & IRQ_TYPE_SENSE_MASK) {
	case IRQ_TYPE_EDGE_RISING:
		vtype = VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING;
		break;
	case IRQ_TYPE_EDGE_FALLING:
		vtype = VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING;
		break;
	case IRQ_TYPE_EDGE_BOTH:
		vtype = VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH;
		break;
	case IRQ_TYPE_LEVEL_HIGH:
		vtype = VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH;
		break;
	case IRQ_TYPE_LEVEL_LOW:
		vtype = VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW;
		break;
	default:
		return -EINVAL;
	}
	if (line->rejected & BIT(vtype))
		return -EINVAL;

	line->type = vtype;
	return 0;
}

static void vgpio_irq_bus_lock(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);

	mutex_lock(&vgpio->irq_lock);
}

static void vgpio_irq_bus_sync_unlock(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);

	vgpio_irq_sync_line(vgpio, irqd_to_hwirq(d));
	mutex_unlock(&vgpio->irq_lock);
}

static int vgpio_irq_reqres(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	irq_hw_number_t hw = irqd_to_hwirq(d);
	struct vgpio_line *line = &vgpio->lines[hw];
	struct vgpio_evt *evt;
	unsigned long flags;
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	ret = gpiochip_reqres_irq(&vgpio->gc, hw);
	if (ret)
		return ret;

	if (!line->evt) {
		evt = kzalloc_obj(*evt, GFP_KERNEL);
		if (!evt) {
			gpiochip_relres_irq(&vgpio->gc, hw);
			return -ENOMEM;
		}
		evt->req.gpio = cpu_to_le16(hw);
		raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
		line->evt = evt;
		raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
	}
	vgpio_irq_probe_types(vgpio, hw);
	line->active = true;
	return 0;
}

static void vgpio_irq_relres(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	irq_hw_number_t hw = irqd_to_hwirq(d);

	lockdep_assert_held(&vgpio->irq_lock);

	vgpio->lines[hw].active = false;
	gpiochip_relres_irq(&vgpio->gc, hw);
}

static const struct irq_chip vgpio_irq_chip = {
	.irq_mask		= vgpio_irq_mask,
	.irq_unmask		= vgpio_irq_unmask,
	.irq_set_type		= vgpio_irq_set_type,
	.irq_retrigger		= vgpio_irq_retrigger,
	.irq_bus_lock		= vgpio_irq_bus_lock,
	.irq_bus_sync_unlock	= vgpio_irq_bus_sync_unlock,
	.irq_request_resources	= vgpio_irq_reqres,
	.irq_release_resources	= vgpio_irq_relres,
	.flags			= IRQCHIP_IMMUTABLE | IRQCHIP_SKIP_SET_WAKE,
};

/* Virtqueue setup and teardown, shared by probe/remove and freeze/restore */

static int vgpio_start(struct virtio_gpio *vgpio)
{
	struct virtqueue_info vqs_info[] = {
		{ .name = "requestq", .callback = vgpio_request_done },
		{ .name = "eventq", .callback = vgpio_event_done },
	};
	struct virtqueue *vqs[2] = { NULL, NULL };
	unsigned long flags;
	int ret;

	ret = virtio_find_vqs(vgpio->vdev, vgpio->has_irq ? 2 : 1, vqs,
			      vqs_info, NULL);
	if (ret) {
		dev_err(&vgpio->vdev->dev, "cannot set up virtqueues: %d\n", ret);
		return ret;
	}

	vgpio->req_vq = vqs[VGPIO_VQ_REQUEST];
	vgpio->evt_vq = vqs[VGPIO_VQ_EVENT];

	spin_lock_irqsave(&vgpio->req_lock, flags);
	vgpio->broken = false;
	spin_unlock_irqrestore(&vgpio->req_lock, flags);

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->evt_live = vgpio->has_irq;
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
	return 0;
}

/**
 * vgpio_stop() - reset the device and take every buffer back
 * @vgpio: the device
 *
 * Every request in flight ends with -ENODEV (a waiter that gave up has its
 * request freed), new requests fail, and the event buffers return to the
 * driver with every line's trigger type back to NONE.
 */
static void vgpio_stop(struct virtio_gpio *vgpio)
{
	struct virtio_device *vdev = vgpio->vdev;
	struct vgpio_msg *msg;
	unsigned long flags;
	unsigned int i;

	if (!vgpio->req_vq)
		return;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	vgpio->broken = true;
	spin_unlock_irqrestore(&vgpio->req_lock, flags);

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->evt_live = false;
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
	cancel_work_sync(&vgpio->evt_work);

	/* After the reset no callback runs and the device owns nothing. */
	virtio_reset_device(vdev);

	spin_lock_irqsave(&vgpio->req_lock, flags);
	while ((msg = virtqueue_detach_unused_buf(vgpio->req_vq)))
		vgpio_msg_finish(vgpio, msg, 0, -ENODEV);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
	wake_up_all(&vgpio->space_wq);
	/* Every request is back: nothing has a deadline any more. */
	timer_delete_sync(&vgpio->deadline_timer);

	if (vgpio->evt_vq) {
		spin_lock_irqsave(&vgpio->evq_lock, flags);
		while (virtqueue_detach_unused_buf(vgpio->evt_vq))
			;
		spin_unlock_irqrestore(&vgpio->evq_lock, flags);

		raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
		for (i = 0; i < vgpio->ngpio; i++) {
			vgpio->lines[i].queued = false;
			vgpio->lines[i].enabled = false;
			list_del_init(&vgpio->lines[i].evt_node);
		}
		raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);

		mutex_lock(&vgpio->irq_lock);
		for (i = 0; i < vgpio->ngpio; i++)
			vgpio->lines[i].dev_type = VIRTIO_GPIO_IRQ_TYPE_NONE;
		mutex_unlock(&vgpio->irq_lock);
	}

	vdev->config->del_vqs(vdev);
	vgpio->req_vq = NULL;
	vgpio->evt_vq = NULL;
}

/* Probe-time helpers */

static int vgpio_name_cmp(const void *a, const void *b, const void *priv)
{
	const char * const *names = priv;

	return strcmp(names[*(const u32 *)a], names[*(const u32 *)b]);
}

static bool vgpio_name_ok(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	return true;
}

/**
 * vgpio_check_names() - drop duplicated names
 * @vgpio: the device
 * @names: one entry per line, NULL for unnamed lines
 *
 * Return: the number of lines whose name was dropped, or -ENOMEM.
 */
static int vgpio_check_names(struct virtio_gpio *vgpio, const char **names)
{
	unsigned int i, j, n = 0, dropped = 0;
	u32 *order;

	order = kvmalloc_array(vgpio->ngpio, sizeof(*order), GFP_KERNEL);
	if (!order)
		return -ENOMEM;
	for (i = 0; i < vgpio->ngpio; i++)
		if (names[i])
			order[n++] = i;
	sort_r(order, n, sizeof(*order), vgpio_name_cmp, NULL, names);

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n; j++)
			if (strcmp(names[order[i]], names[order[j]]))
				break;
		if (j - i < 2)
			continue;
		for (; i < j; i++, dropped++)
			names[order[i]] = NULL;
	}
	kvfree(order);
	return dropped;
}

/**
 * vgpio_read_names() - fetch and validate the line names
 * @vgpio: the device
 * @size: gpio_names_size from the configuration space
 *
 * A name that is not 7-bit printable, is duplicated, or is missing because
 * the block ends early leaves its line unnamed, with one warning in all.
 * Nothing here fails the probe.
 */
static void vgpio_read_names(struct virtio_gpio *vgpio, u32 size)
{
	struct device *dev = &vgpio->vdev->dev;
	unsigned int i, bad = 0, missing = 0;
	const char **names;
	struct vgpio_msg *msg;
	char *p, *end, *nul;
	int ret;

	msg = vgpio_msg_alloc(VIRTIO_GPIO_MSG_GET_NAMES, 0, 0);
	if (!msg)
		return;
	msg->resp = kzalloc(size + 1, GFP_KERNEL | __GFP_NOWARN);
	if (!msg->resp) {
		msg->resp = &msg->res;
		vgpio_msg_free(msg);
		dev_warn(dev, "no memory for %u bytes of line names: lines are unnamed\n",
			 size);
		return;
	}
	msg->resp_len = size + 1;

	ret = vgpio_transfer(vgpio, &msg, 1);
	if (ret) {
		dev_warn(dev, "cannot read line names (%d): lines are unnamed\n",
			 ret);
		goto out;
	}

	names = kvcalloc(vgpio->ngpio, sizeof(*names), GFP_KERNEL);
	if (!names)
		goto out;

	p = (char *)msg->resp + 1;
	end = p + size;
	for (i = 0; i < vgpio->ngpio; i++) {
		nul = p < end ? memchr(p, '\0', end - p) : NULL;
		if (!nul) {
			missing = vgpio->ngpio - i;
			break;
		}
		if (nul > p && vgpio_name_ok(p, nul - p))
			names[i] = p;
		else if (nul > p)
			bad++;
		p = nul + 1;
	}

	ret = vgpio_check_names(vgpio, names);
	if (ret < 0) {
		kvfree(names);
		goto out;
	}
	bad += ret;
	for (i = 0; i < vgpio->ngpio; i++)
		if (!names[i])
			names[i] = "";
	if (bad || missing || p != end)
		dev_warn(dev, "line names: %u invalid or duplicated, %u missing, %td stray bytes: those lines are unnamed\n",
			 bad, missing, missing ? 0 : end - p);

	vgpio->names = names;
	vgpio->names_buf = msg->resp;
	msg->resp = &msg->res;
out:
	if (msg)
		vgpio_msg_free(msg);
}

/**
 * vgpio_read_directions() - read every line's direction, many per kick
 * @vgpio: the device
 *
 * gpiolib asks for every line's direction when the chip is added; for a
 * device with many lines one request at a time is slow, so they are read
 * here in batches and get_direction() answers from them meanwhile.
 *
 * Return: 0, or a negative errno (the directions are then not used).
 */
static int vgpio_read_directions(struct virtio_gpio *vgpio)
{
	struct vgpio_msg **msgs;
	unsigned int first, n, i;
	int ret = 0;

	msgs = kcalloc(VGPIO_DIR_BATCH, sizeof(*msgs), GFP_KERNEL);
	if (!msgs)
		return -ENOMEM;

	for (first = 0; !ret && first < vgpio->ngpio; first += n) {
		n = min_t(unsigned int, VGPIO_DIR_BATCH, vgpio->ngpio - first);
		for (i = 0; i < n; i++) {
			msgs[i] = vgpio_msg_alloc(VIRTIO_GPIO_MSG_GET_DIRECTION,
						  first + i, 0);
			if (!msgs[i])
				ret = -ENOMEM;
		}
		if (!ret)
			ret = vgpio_transfer(vgpio, msgs, n);
		for (i = 0; i < n; i++) {
			if (!msgs[i])
				continue;
			if (!ret)
				vgpio->lines[first + i].dir = msgs[i]->res.value;
			vgpio_msg_free(msgs[i]);
			msgs[i] = NULL;
		}
	}
	kfree(msgs);
	return ret;
}

/**
 * vgpio_names_to_swnode() - hand the line names to gpiolib
 * @vgpio: the device
 *
 * The names go through a "gpio-line-names" property of a software node
 * that becomes the chip's firmware node: gpiolib checks names passed in
 * gpio_chip.names against every line of every chip, one name at a time,
 * which takes minutes for 65535 lines. The property keeps its own copy.
 */
static void vgpio_names_to_swnode(struct virtio_gpio *vgpio)
{
	struct property_entry props[] = {
		PROPERTY_ENTRY_STRING_ARRAY_LEN("gpio-line-names", vgpio->names,
						vgpio->ngpio),
		{ }
	};
	struct fwnode_handle *fwnode;

	fwnode = fwnode_create_software_node(props, NULL);
	if (IS_ERR(fwnode)) {
		dev_warn(&vgpio->vdev->dev, "cannot pass line names on: %ld\n",
			 PTR_ERR(fwnode));
		return;
	}
	vgpio->swnode = fwnode;
	vgpio->gc.fwnode = fwnode;
}

static void vgpio_free_names(struct virtio_gpio *vgpio)
{
	kvfree(vgpio->names);
	vgpio->names = NULL;
	kfree(vgpio->names_buf);
	vgpio->names_buf = NULL;
}

static void vgpio_free_mem(struct virtio_gpio *vgpio)
{
	unsigned int i;

	for (i = 0; i < vgpio->ngpio; i++)
		kfree(vgpio->lines[i].evt);
	vgpio_free_names(vgpio);
	if (vgpio->swnode)
		fwnode_remove_software_node(vgpio->swnode);
	kvfree(vgpio->lines);
}

/* debugfs: <debugfs>/gpio-virtio/<virtio device>/stats */

static void *vgpio_stats_start(struct seq_file *s, loff_t *pos)
{
	struct virtio_gpio *vgpio = s->private;

	return *pos < vgpio->ngpio ? &vgpio->lines[*pos] : NULL;
}

static void *vgpio_stats_next(struct seq_file *s, void *v, loff_t *pos)
{
	++*pos;
	return vgpio_stats_start(s, pos);
}

static void vgpio_stats_stop(struct seq_file *s, void *v)
{
}

static int vgpio_stats_show(struct seq_file *s, void *v)
{
	struct virtio_gpio *vgpio = s->private;
	struct vgpio_line *line = v;
	unsigned int idx = line - vgpio->lines;

	if (!idx)
		seq_puts(s, "# line requests errors timeouts irqs\n");
	seq_printf(s, "%u %u %u %u %u\n", idx,
		   atomic_read(&line->requests), atomic_read(&line->errors),
		   atomic_read(&line->timeouts), atomic_read(&line->irqs));
	return 0;
}

static const struct seq_operations vgpio_stats_sops = {
	.start	= vgpio_stats_start,
	.next	= vgpio_stats_next,
	.stop	= vgpio_stats_stop,
	.show	= vgpio_stats_show,
};
DEFINE_SEQ_ATTRIBUTE(vgpio_stats);

/* The driver */

static int virtio_gpio_probe(struct virtio_device *vdev)
{
	struct device *dev = &vdev->dev;
	struct gpio_irq_chip *girq;
	struct virtio_gpio *vgpio;
	u32 names_size, names_max;
	unsigned int i;
	u16 ngpio;
	int ret;

	virtio_cread_le(vdev, struct virtio_gpio_config, ngpio, &ngpio);
	virtio_cread_le(vdev, struct virtio_gpio_config, gpio_names_size, &names_size);

	if (!ngpio) {
		dev_err(dev, "the device has no GPIO lines\n");
		return -EINVAL;
	}
	names_max = min_t(u32, (u32)ngpio * VGPIO_NAME_MAX_PER_LINE,
			  VGPIO_NAMES_MAX);
	if (names_size && (names_size < ngpio || names_size > names_max)) {
		dev_err(dev, "impossible line names size %u for %u lines (at most %u)\n",
			names_size, ngpio, names_max);
		return -EINVAL;
	}

	vgpio = devm_kzalloc(dev, sizeof(*vgpio), GFP_KERNEL);
	if (!vgpio)
		return -ENOMEM;

	vgpio->vdev = vdev;
	vgpio->ngpio = ngpio;
	vgpio->has_irq = virtio_has_feature(vdev, VIRTIO_GPIO_F_IRQ);
	spin_lock_init(&vgpio->req_lock);
	init_waitqueue_head(&vgpio->space_wq);
	INIT_LIST_HEAD(&vgpio->inflight);
	timer_setup(&vgpio->deadline_timer, vgpio_deadline_expired, 0);
	spin_lock_init(&vgpio->evq_lock);
	raw_spin_lock_init(&vgpio->evt_lock);
	INIT_WORK(&vgpio->evt_work, vgpio_evt_work);
	mutex_init(&vgpio->irq_lock);

	INIT_LIST_HEAD(&vgpio->evt_queue);
	vgpio->lines = kvcalloc(ngpio, sizeof(*vgpio->lines), GFP_KERNEL);
	if (!vgpio->lines)
		return -ENOMEM;
	for (i = 0; i < ngpio; i++)
		INIT_LIST_HEAD(&vgpio->lines[i].evt_node);

	vdev->priv = vgpio;
	ret = vgpio_start(vgpio);
	if (ret)
		goto err_free;
	virtio_device_ready(vdev);

	if (names_size)
		vgpio_read_names(vgpio, names_size);
	if (vgpio->names)
		vgpio_names_to_swnode(vgpio);
	vgpio_free_names(vgpio);

	vgpio->gc.label = devm_kasprintf(dev, GFP_KERNEL, "gpio-virtio.%s",
					 dev_name(dev->parent ?: dev));
	if (!vgpio->gc.label) {
		ret = -ENOMEM;
		goto err_stop;
	}
	vgpio->gc.parent = dev;
	vgpio->gc.base = -1;
	vgpio->gc.ngpio = ngpio;
	vgpio->gc.can_sleep = true;
	vgpio->gc.free = virtio_gpio_free;
	vgpio->gc.get_direction = virtio_gpio_get_direction;
	vgpio->gc.direction_input = virtio_gpio_direction_input;
	vgpio->gc.direction_output = virtio_gpio_direction_output;
	vgpio->gc.get = virtio_gpio_get;
	vgpio->gc.set = virtio_gpio_set;
	vgpio->gc.get_multiple = virtio_gpio_get_multiple;
	vgpio->gc.set_multiple = virtio_gpio_set_multiple;

	if (vgpio->has_irq) {
		vgpio->irqc = vgpio_irq_chip;
		vgpio->irqc.name = vgpio->gc.label;
		girq = &vgpio->gc.irq;
		gpio_irq_chip_set_chip(girq, &vgpio->irqc);
		girq->handler = handle_level_irq;
		girq->default_type = IRQ_TYPE_NONE;
		for (i = 0; i < ngpio; i++)
			vgpio->lines[i].masked = true;
	} else {
		dev_info(dev, "the device does not offer VIRTIO_GPIO_F_IRQ: no interrupts\n");
	}

	vgpio->dir_cached = !vgpio_read_directions(vgpio);
	ret = gpiochip_add_data(&vgpio->gc, vgpio);
	vgpio->dir_cached = false;
	if (ret) {
		dev_err(dev, "cannot add the GPIO chip: %d\n", ret);
		goto err_stop;
	}

	vgpio->debugfs = debugfs_create_dir(dev_name(dev), vgpio_debugfs_root);
	debugfs_create_file("stats", 0444, vgpio->debugfs, vgpio,
			    &vgpio_stats_fops);
	return 0;

err_stop:
	vgpio_stop(vgpio);
err_free:
	vgpio_free_mem(vgpio);
	vdev->priv = NULL;
	return ret;
}

static void virtio_gpio_remove(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;

	debugfs_remove_recursive(vgpio->debugfs);
	/* Fail what is in flight first, so gpiolib does not wait for it. */
	vgpio_stop(vgpio);
	gpiochip_remove(&vgpio->gc);
	vgpio_free_mem(vgpio);
}

#ifdef CONFIG_PM_SLEEP
static int virtio_gpio_freeze(struct virtio_device *vdev)
{
	vgpio_stop(vdev->priv);
	return 0;
}

static int virtio_gpio_restore(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;
	struct vgpio_line *line;
	unsigned int i;
	int ret;

	ret = vgpio_start(vgpio);
	if (ret)
		return ret;
	virtio_device_ready(vdev);

	/* The device lost its line state in the reset: give it back. */
	for (i = 0; i < vgpio->ngpio; i++) {
		line = &vgpio->lines[i];
		ret = 0;
		if (line->dir == VIRTIO_GPIO_DIRECTION_OUT)
			ret = virtio_gpio_direction_output(&vgpio->gc, i,
							   line->val);
		else if (line->dir == VIRTIO_GPIO_DIRECTION_IN)
			ret = virtio_gpio_direction_input(&vgpio->gc, i);
		if (ret)
			dev_warn(&vdev->dev, "line %u: state not restored: %d\n",
				 i, ret);
	}

	if (vgpio->has_irq) {
		mutex_lock(&vgpio->irq_lock);
		for (i = 0; i < vgpio->ngpio; i++)
			vgpio_irq_sync_line(vgpio, i);
		mutex_unlock(&vgpio->irq_lock);
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

static int __init virtio_gpio_init(void)
{
	int ret;

	vgpio_debugfs_root = debugfs_create_dir("gpio-virtio", NULL);
	ret = register_virtio_driver(&virtio_gpio_driver);
	if (ret)
		debugfs_remove_recursive(vgpio_debugfs_root);
	return ret;
}
module_init(virtio_gpio_init);

static void __exit virtio_gpio_exit(void)
{
	unregister_virtio_driver(&virtio_gpio_driver);
	debugfs_remove_recursive(vgpio_debugfs_root);
}
module_exit(virtio_gpio_exit);

MODULE_DESCRIPTION("GPIO lines and interrupts of virtio GPIO devices");
MODULE_LICENSE("GPL");
