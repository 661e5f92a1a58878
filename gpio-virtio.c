// SPDX-License-Identifier: GPL-2.0
/*
 * GPIO lines and their interrupts on a virtio GPIO device (virtio
 * specification 1.2 and later, "GPIO Device", device ID 41).
 *
 * Every line operation is a request on the request virtqueue, answered in
 * any order and matched by token. Interrupts use the event virtqueue: one
 * buffer pair per line, owned by the device while the line is unmasked.
 *
 * Nothing the device says is trusted: every wait is bounded and killable,
 * a reply that comes late lands in memory the driver still owns, and a
 * device keeps its line state across a reset (vhost-user back ends never
 * see one), so the driver tears its state down before a reset and treats
 * the device's state as unknown after it.
 */

#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gpio/driver.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/property.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
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

/* About a round trip to a back end on another host CPU. */
static unsigned int poll_us = 30;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us,
		 "Spin up to this many us for a reply before sleeping (0: never)");

/* A names block larger than this costs the names, not the chip. */
#define VGPIO_NAMES_MAX			SZ_1M

/* The longest wait of the driver's own teardown for each reply. */
#define VGPIO_TEARDOWN_MS		1000

/* Not a device value: the driver does not know the device's state. */
#define VGPIO_UNKNOWN			0xff

#define VGPIO_EDGE_TYPES	(BIT(VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING) | \
				 BIT(VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING) | \
				 BIT(VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH))
#define VGPIO_LEVEL_TYPES	(BIT(VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH) | \
				 BIT(VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW))

enum { VGPIO_VQ_REQUEST, VGPIO_VQ_EVENT };

/**
 * struct vgpio_batch - requests sent together and waited for together
 * @done: completed when the last reply arrives or the deadline passes
 * @pending: requests the device owns, plus one while more are being added
 * @timed: @deadline applies
 * @cut: the device is going away: the waiter gives its requests up
 * @deadline: in jiffies, when @timed
 * @node: in &virtio_gpio.inflight while waited for
 *
 * Lives on the waiter's stack; everything is under &virtio_gpio.req_lock.
 */
struct vgpio_batch {
	struct completion done;
	unsigned int pending;
	bool timed;
	bool cut;
	unsigned long deadline;
	struct list_head node;
};

/**
 * struct vgpio_slot - one request and its response
 * @batch: who waits for it, while the device owns it; NULL once the waiter
 *	gave up (the slot is freed when the device gives it back)
 * @queued: the device owns it
 * @answered: the device gave it back with a reply
 * @len: bytes the device wrote
 * @resp: the device-writable buffer, @res or a names buffer
 * @resp_len: size of @resp
 * @req: the device-readable request
 * @res: the response of line requests
 *
 * Slots come from a pool sized like the request ring, so the request path
 * allocates nothing. A slot whose waiter gave up stays the device's until
 * the device returns it; the pool gets a new slot in its place. @res shares
 * no DMA cache line with anything the CPU writes meanwhile.
 */
struct vgpio_slot {
	struct vgpio_batch *batch;
	bool queued;
	bool answered;
	unsigned int len;
	void *resp;
	u32 resp_len;
	struct virtio_gpio_request req;
	/* private: the device writes alone in its cache lines */
	__dma_from_device_group_begin();
	/* public: */
	struct virtio_gpio_response res;
	/* private: */
	__dma_from_device_group_end();
};

/**
 * struct vgpio_evt - the event buffer pair of one line
 * @req: device-readable, names the line
 * @res: device-writable, the event status
 */
struct vgpio_evt {
	struct virtio_gpio_irq_request req;
	/* private: the device writes alone in its cache lines */
	__dma_from_device_group_begin();
	/* public: */
	struct virtio_gpio_irq_response res;
	/* private: */
	__dma_from_device_group_end();
};

/**
 * struct vgpio_line - per-line state
 * @requests: requests sent for the line
 * @errors: requests that failed other than by timeout, and bad events
 * @timeouts: requests that timed out
 * @irqs: interrupts delivered
 * @dir: the device's direction as last read or set, or VGPIO_UNKNOWN
 * @val: the last value the device accepted
 * @held: a consumer has requested the line
 * @type: trigger type the irq core asked for, under &virtio_gpio.irq_lock
 * @dev_type: trigger type the device has, or VGPIO_UNKNOWN, under irq_lock
 * @rejected: trigger types the device refused on this line, under irq_lock
 * @active: an interrupt consumer holds the line, under irq_lock
 * @enabled: the device has a trigger type, under &virtio_gpio.evt_lock
 * @masked: the interrupt is masked, under evt_lock
 * @queued: @evt is the device's, under evt_lock
 * @latched: an edge came while masked; delivered at unmask, under evt_lock
 * @resync: the device's answers contradict its trigger type, under evt_lock
 * @stale: @evt was queued before the trigger type changed, under evt_lock
 * @evt_node: in &virtio_gpio.evt_queue, under evt_lock
 * @evt_next: next buffer taken back in the same event queue callback
 * @evt_len: bytes the device wrote in @evt, as it returned the buffer
 * @evt: event buffers, allocated when an interrupt is first requested
 */
struct vgpio_line {
	atomic_t requests;
	atomic_t errors;
	atomic_t timeouts;
	atomic_t irqs;
	u8 dir;
	u8 val;
	bool held;
	u8 type;
	u8 dev_type;
	u16 rejected;
	bool active;
	bool enabled;
	bool masked;
	bool queued;
	bool latched;
	bool resync;
	bool stale;
	struct list_head evt_node;
	struct vgpio_line *evt_next;
	unsigned int evt_len;
	struct vgpio_evt *evt;
};

/**
 * struct virtio_gpio - one virtio GPIO device
 * @vdev: the virtio device
 * @gc: the GPIO chip
 * @irqc: the interrupt chip of this device
 * @ngpio: number of lines
 * @lines: per-line state, @ngpio entries
 * @names: line names for &gpio_chip.names, or NULL
 * @names_buf: the names block @names point into
 * @swnode: software node carrying the names, or NULL
 * @has_irq: VIRTIO_GPIO_F_IRQ was negotiated
 * @req_vq: the request virtqueue
 * @req_lock: protects @req_vq, the slots and batches, @pool, @npool,
 *	@broken, @space_gen, @space_waiters and @inflight
 * @pool: free slots, @npool of them, at most @pool_size
 * @npool: number of free slots
 * @pool_size: the pool's capacity: twice the request ring's size, so that
 *	a full ring's batch finds slots while single requests come and go
 * @chunk: most requests one batch puts in flight: the ring's size
 * @users: callers between vgpio_ops()'s entry and exit
 * @broken: the virtqueues are gone; new requests fail
 * @closing: only the driver's own teardown reaches the device
 * @space_gen: counts buffers the device returned, to wait for ring space
 * @space_waiters: tasks waiting on @space_wq
 * @space_wq: where requests wait for ring space
 * @inflight: batches waited for
 * @deadline_timer: fires at the earliest deadline in @inflight
 * @evt_vq: the event virtqueue, or NULL
 * @evq_lock: protects @evt_vq
 * @evt_lock: protects the event fields of @lines, @evt_queue, @evt_live and
 *	@evt_owned
 * @evt_queue: lines whose buffers wait to be queued or whose latched edge
 *	waits to be delivered, oldest first (a full ring serves every line)
 * @evt_live: @evt_work may run and use @evt_vq
 * @evt_owned: event buffers the device owns
 * @evt_wq: woken when the device returns an event buffer
 * @evt_work: queues buffers and delivers latched edges (never from the irq
 *	core's locks)
 * @resync_work: brings lines back in step with the device
 * @irq_lock: the irq bus lock; protects the trigger fields of @lines,
 *	@caps_ok and @caps_refused
 * @bus_owner: the task holding @irq_lock as the irq bus lock, or NULL
 * @caps_ok: trigger types the device accepted, bit per type
 * @caps_refused: trigger types the device refused, bit per type
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
	bool has_irq;

	struct virtqueue *req_vq;
	spinlock_t req_lock; /* requestq, slots, batches, pool, broken, space */
	struct vgpio_slot **pool;
	unsigned int npool;
	unsigned int pool_size;
	unsigned int chunk;
	atomic_t users;
	bool broken;
	bool closing;
	unsigned long space_gen;
	unsigned int space_waiters;
	wait_queue_head_t space_wq;
	struct list_head inflight;
	struct timer_list deadline_timer;

	struct virtqueue *evt_vq;
	spinlock_t evq_lock; /* eventq */
	raw_spinlock_t evt_lock; /* line event state, evt_queue, evt_live */
	struct list_head evt_queue;
	bool evt_live;
	unsigned int evt_owned;
	wait_queue_head_t evt_wq;
	struct irq_work evt_work;
	struct delayed_work resync_work;
	struct mutex irq_lock; /* irq bus lock: trigger state, caps */
	struct task_struct *bus_owner;
	u16 caps_ok;
	u16 caps_refused;

	struct dentry *debugfs;
};

static struct dentry *vgpio_debugfs_root;

/* Requests */

static long vgpio_timeout(void)
{
	unsigned int ms = READ_ONCE(timeout_ms);

	return ms ? msecs_to_jiffies(ms) : MAX_SCHEDULE_TIMEOUT;
}

static struct vgpio_slot *vgpio_slot_alloc(gfp_t gfp)
{
	struct vgpio_slot *slot = kzalloc_obj(*slot, gfp);

	if (slot) {
		slot->resp = &slot->res;
		slot->resp_len = sizeof(slot->res);
	}
	return slot;
}

static void vgpio_slot_free(struct vgpio_slot *slot)
{
	if (slot && slot->resp != &slot->res)
		kvfree(slot->resp);
	kfree(slot);
}

/**
 * vgpio_slots_get() - take free slots from the pool
 * @vgpio: the device
 * @slots: where they go
 * @n: how many, at most &virtio_gpio.chunk
 *
 * Waits (killable, bounded by timeout_ms) while other requests hold them.
 *
 * Return: 0, -ETIMEDOUT, -EINTR or -ENODEV.
 */
static int vgpio_slots_get(struct virtio_gpio *vgpio, struct vgpio_slot **slots,
			   unsigned int n)
{
	unsigned long flags;
	long left;
	int ret = 0;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	while (vgpio->npool < n && !vgpio->broken) {
		vgpio->space_waiters++;
		spin_unlock_irqrestore(&vgpio->req_lock, flags);
		left = wait_event_killable_timeout(vgpio->space_wq,
						   READ_ONCE(vgpio->npool) >= n ||
						   READ_ONCE(vgpio->broken),
						   vgpio_timeout());
		spin_lock_irqsave(&vgpio->req_lock, flags);
		vgpio->space_waiters--;
		if (left <= 0) {
			ret = left ? -EINTR : -ETIMEDOUT;
			break;
		}
	}
	if (!ret && vgpio->broken)
		ret = -ENODEV;
	if (!ret) {
		vgpio->npool -= n;
		memcpy(slots, &vgpio->pool[vgpio->npool], n * sizeof(*slots));
	}
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
	return ret;
}

/* Give slots back; NULL entries (left to the device) are replaced. */
static void vgpio_slots_put(struct virtio_gpio *vgpio, struct vgpio_slot **slots,
			    unsigned int n)
{
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!slots[i])
			slots[i] = vgpio_slot_alloc(GFP_KERNEL);

	spin_lock_irqsave(&vgpio->req_lock, flags);
	for (i = 0; i < n; i++) {
		/* Out of memory: the pool is one slot short. */
		if (!slots[i])
			continue;
		slots[i]->answered = false;
		vgpio->pool[vgpio->npool++] = slots[i];
	}
	if (vgpio->space_waiters)
		wake_up(&vgpio->space_wq);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
}

/* Take the replies off the request ring; their waiters wake. */
static void vgpio_reap_locked(struct virtio_gpio *vgpio, struct virtqueue *vq)
{
	struct vgpio_slot *slot;
	unsigned int len;

	lockdep_assert_held(&vgpio->req_lock);

	while ((slot = virtqueue_get_buf(vq, &len))) {
		vgpio->space_gen++;
		slot->queued = false;
		slot->answered = true;
		slot->len = len;
		if (!slot->batch) {
			vgpio_slot_free(slot);
			continue;
		}
		if (!--slot->batch->pending) {
			list_del_init(&slot->batch->node);
			complete(&slot->batch->done);
		}
	}
	if (vgpio->space_waiters)
		wake_up(&vgpio->space_wq);
}

static void vgpio_request_done(struct virtqueue *vq)
{
	struct virtio_gpio *vgpio = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	vgpio_reap_locked(vgpio, vq);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
}

/*
 * With poll_us, spin that long for @b's replies before sleeping: a device
 * that answers within microseconds then costs no interrupt wake-up. The
 * ring is looked at only while the queues exist (vgpio_stop() sets
 * @broken before it deletes them).
 */
static void vgpio_poll(struct virtio_gpio *vgpio, struct vgpio_batch *b)
{
	unsigned int us = READ_ONCE(poll_us);
	unsigned long flags;
	ktime_t end;

	if (!us)
		return;
	end = ktime_add_us(ktime_get(), us);
	while (!completion_done(&b->done) && ktime_before(ktime_get(), end) &&
	       !need_resched()) {
		spin_lock_irqsave(&vgpio->req_lock, flags);
		if (!vgpio->broken)
			vgpio_reap_locked(vgpio, vgpio->req_vq);
		spin_unlock_irqrestore(&vgpio->req_lock, flags);
		cpu_relax();
	}
}

/**
 * vgpio_deadline_expired() - end the waits of batches past their deadline
 * @t: &virtio_gpio.deadline_timer
 *
 * The requests stay the device's; their waiters wake and give them up.
 * Re-arms for the next deadline.
 */
static void vgpio_deadline_expired(struct timer_list *t)
{
	struct virtio_gpio *vgpio = timer_container_of(vgpio, t, deadline_timer);
	struct vgpio_batch *b, *tmp;
	unsigned long flags, next = 0, now = jiffies;
	bool rearm = false;

	spin_lock_irqsave(&vgpio->req_lock, flags);
	list_for_each_entry_safe(b, tmp, &vgpio->inflight, node) {
		if (!b->timed)
			continue;
		if (time_after(b->deadline, now)) {
			/* timeout_ms may change: deadlines are not sorted. */
			if (!rearm || time_before(b->deadline, next))
				next = b->deadline;
			rearm = true;
			continue;
		}
		list_del_init(&b->node);
		complete(&b->done);
	}
	if (rearm)
		timer_reduce(&vgpio->deadline_timer, next);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
}

/**
 * vgpio_transfer() - send requests and wait for every reply
 * @vgpio: the device
 * @slots: the requests, filled in; an entry the device keeps is set to NULL
 * @n: number of requests, at most &virtio_gpio.chunk
 * @own: the driver's own teardown, which may reach a closing device
 *
 * All requests go in flight before the wait, with one notification per
 * batch that fits the ring, and the waiter is woken once, by the last
 * reply. The wait ends with the replies, at the deadline (timeout_ms after
 * the last request was added) or when the task is killed; requests without
 * a reply then stay the device's. The driver's own teardown waits at most
 * VGPIO_TEARDOWN_MS per batch: it is worth trying, not worth hanging for.
 *
 * Return: 0 when every request was answered (see vgpio_check()), else
 * -ENODEV, -ETIMEDOUT, -EINTR or an error from the virtqueue.
 */
static int vgpio_transfer(struct virtio_gpio *vgpio, struct vgpio_slot **slots,
			  unsigned int n, bool own)
{
	struct scatterlist req_sg, res_sg, *sgs[2] = { &req_sg, &res_sg };
	long tmo = vgpio_timeout(), left;
	struct vgpio_batch b = { .pending = 1 };
	unsigned int i = 0, added;
	unsigned long flags, gen;
	bool kick, wait = false;
	int ret = 0;

	if (own)
		tmo = min_t(long, tmo, msecs_to_jiffies(VGPIO_TEARDOWN_MS));
	b.timed = tmo != MAX_SCHEDULE_TIMEOUT;
	init_completion(&b.done);
	INIT_LIST_HEAD(&b.node);

	while (i < n) {
		added = 0;
		spin_lock_irqsave(&vgpio->req_lock, flags);
		if (vgpio->broken || (vgpio->closing && !own))
			ret = -ENODEV;
		while (!ret && i < n) {
			struct vgpio_slot *slot = slots[i];

			sg_init_one(&req_sg, &slot->req, sizeof(slot->req));
			sg_init_one(&res_sg, slot->resp, slot->resp_len);
			ret = virtqueue_add_sgs(vgpio->req_vq, sgs, 1, 1, slot,
						GFP_ATOMIC);
			if (ret)
				break;
			slot->batch = &b;
			slot->queued = true;
			b.pending++;
			atomic_inc(&vgpio->lines[le16_to_cpu(slot->req.gpio)].requests);
			added++;
			i++;
		}
		kick = false;
		if (added) {
			if (list_empty(&b.node))
				list_add_tail(&b.node, &vgpio->inflight);
			if (b.timed) {
				b.deadline = jiffies + tmo;
				/* A no-op while an earlier deadline is armed. */
				timer_reduce(&vgpio->deadline_timer, b.deadline);
			}
			kick = virtqueue_kick_prepare(vgpio->req_vq);
		}
		gen = vgpio->space_gen;
		if (ret == -ENOSPC)
			vgpio->space_waiters++;
		else if (!--b.pending)	/* all added: the last reply completes */
			list_del_init(&b.node);
		wait = b.pending;
		spin_unlock_irqrestore(&vgpio->req_lock, flags);
		if (kick)
			virtqueue_notify(vgpio->req_vq);

		if (ret != -ENOSPC)
			break;
		/* The ring is full: wait until the device returns buffers. */
		left = wait_event_killable_timeout(vgpio->space_wq,
						   READ_ONCE(vgpio->space_gen) != gen ||
						   READ_ONCE(vgpio->broken), tmo);
		ret = left > 0 ? 0 : left ? -EINTR : -ETIMEDOUT;
		spin_lock_irqsave(&vgpio->req_lock, flags);
		vgpio->space_waiters--;
		if (ret && !--b.pending)
			list_del_init(&b.node);
		wait = b.pending;
		spin_unlock_irqrestore(&vgpio->req_lock, flags);
		if (ret)
			break;
	}

	/*
	 * Every reply came before the bias was dropped: nobody completes @b.
	 * Else it is completed (by the last reply, the deadline or removal)
	 * and may be touched until then: wait.
	 */
	if (!wait)
		return ret;
	vgpio_poll(vgpio, &b);
	left = wait_for_completion_killable(&b.done);

	spin_lock_irqsave(&vgpio->req_lock, flags);
	list_del_init(&b.node);
	if (b.pending) {
		/* The device keeps what it has not answered. */
		if (!ret)
			ret = b.cut ? -ENODEV : left ? -EINTR : -ETIMEDOUT;
		for (i = 0; i < n; i++) {
			if (slots[i] && slots[i]->queued && slots[i]->batch == &b) {
				slots[i]->batch = NULL;
				slots[i] = NULL;
			}
		}
	}
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
	return ret;
}

/**
 * vgpio_check() - check the reply to a request
 * @vgpio: the device
 * @slot: the request, answered
 *
 * A device's ERR is a refusal (-EIO); a reply that is not well formed is a
 * broken device (-EPROTO): the request may or may not have been carried out,
 * and nothing is learnt from it (a trigger type is not taken as refused).
 *
 * Return: 0 for a well-formed OK reply, -EIO for ERR, else -EPROTO.
 */
static int vgpio_check(struct virtio_gpio *vgpio, struct vgpio_slot *slot)
{
	u8 status = *(u8 *)slot->resp;

	if (slot->len == slot->resp_len && status == VIRTIO_GPIO_STATUS_OK)
		return 0;
	if (slot->len == slot->resp_len && status == VIRTIO_GPIO_STATUS_ERR)
		return -EIO;
	dev_warn_ratelimited(&vgpio->vdev->dev,
			     "line %u: malformed reply (%u of %u bytes, status %u)\n",
			     le16_to_cpu(slot->req.gpio), slot->len,
			     slot->resp_len, status);
	return -EPROTO;
}

/**
 * struct vgpio_op - one line request for vgpio_ops()
 * @type: VIRTIO_GPIO_MSG_*
 * @line: the line
 * @value: the request argument
 * @rvalue: the response value
 * @ret: 0, or why the request failed
 */
struct vgpio_op {
	u16 type;
	u16 line;
	u32 value;
	u8 rvalue;
	int ret;
};

/* What a request that ended leaves known about the line. */
static void vgpio_note(struct virtio_gpio *vgpio, struct vgpio_op *op)
{
	struct vgpio_line *line = &vgpio->lines[op->line];

	if (op->ret == -ETIMEDOUT)
		atomic_inc(&line->timeouts);
	else if (op->ret && op->ret != -EINTR && op->ret != -ENODEV)
		atomic_inc(&line->errors);

	switch (op->type) {
	case VIRTIO_GPIO_MSG_GET_DIRECTION:
		if (!op->ret)
			WRITE_ONCE(line->dir, op->rvalue);
		break;
	case VIRTIO_GPIO_MSG_SET_DIRECTION:
		/* Without a reply the device may or may not have done it. */
		if (!op->ret)
			WRITE_ONCE(line->dir, op->value);
		else if (op->ret != -EIO)
			WRITE_ONCE(line->dir, VGPIO_UNKNOWN);
		break;
	case VIRTIO_GPIO_MSG_SET_VALUE:
		if (!op->ret)
			WRITE_ONCE(line->val, op->value);
		break;
	}
}

/**
 * vgpio_ops() - run line requests, as many in flight at once as fit
 * @vgpio: the device
 * @ops: the requests; each gets its own result
 * @n: number of requests
 * @own: the driver's own teardown (see vgpio_transfer())
 *
 * Requests for one line are sent in array order. A batch that ends without
 * every reply (timeout, kill, device gone) ends the run: the requests not
 * sent get the same error.
 *
 * Return: 0 when every request succeeded, else the first error.
 */
static int vgpio_ops(struct virtio_gpio *vgpio, struct vgpio_op *ops,
		     unsigned int n, bool own)
{
	struct vgpio_slot *one, **slots = &one;
	unsigned int first = 0, k, i;
	int ret = 0, err = 0;

	k = min(n, vgpio->chunk);
	if (k > 1) {
		slots = kmalloc_array(k, sizeof(*slots), GFP_KERNEL);
		if (!slots)
			return -ENOMEM;
	}

	atomic_inc(&vgpio->users);
	for (; !err && first < n; first += k) {
		k = min(n - first, vgpio->chunk);
		err = vgpio_slots_get(vgpio, slots, k);
		if (err)
			break;
		for (i = 0; i < k; i++) {
			struct vgpio_op *op = &ops[first + i];

			slots[i]->req.type = cpu_to_le16(op->type);
			slots[i]->req.gpio = cpu_to_le16(op->line);
			slots[i]->req.value = cpu_to_le32(op->value);
		}
		err = vgpio_transfer(vgpio, slots, k, own);
		for (i = 0; i < k; i++) {
			struct vgpio_op *op = &ops[first + i];

			if (slots[i] && slots[i]->answered)
				op->ret = vgpio_check(vgpio, slots[i]);
			else
				op->ret = err ?: -EPROTO;
			if (!op->ret)
				op->rvalue = slots[i]->res.value;
			vgpio_note(vgpio, op);
			if (op->ret && !ret)
				ret = op->ret;
		}
		vgpio_slots_put(vgpio, slots, k);
	}
	/* What was not sent fails as the batch before it did. */
	for (i = first; i < n; i++) {
		ops[i].ret = err;
		if (!ret)
			ret = err;
	}
	if (atomic_dec_and_test(&vgpio->users))
		wake_up_var(&vgpio->users);
	if (slots != &one)
		kfree(slots);
	return ret;
}

/* One request, waited for; the response value goes to @rvalue. */
static int vgpio_req(struct virtio_gpio *vgpio, u16 type, u16 line, u32 value,
		     u8 *rvalue)
{
	struct vgpio_op op = { .type = type, .line = line, .value = value };
	int ret = vgpio_ops(vgpio, &op, 1, false);

	if (!ret && rvalue)
		*rvalue = op.rvalue;
	return ret;
}

/* The same request for every line in a mask, at once. */
static int vgpio_req_lines(struct virtio_gpio *vgpio, u16 type,
			   unsigned long *mask, unsigned long *bits)
{
	bool set = type == VIRTIO_GPIO_MSG_SET_VALUE;
	struct vgpio_op *ops, one;
	unsigned int n, i = 0, line;
	int ret;

	n = bitmap_weight(mask, vgpio->ngpio);
	if (!n)
		return 0;
	ops = n == 1 ? &one : kvcalloc(n, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;

	for_each_set_bit(line, mask, vgpio->ngpio) {
		ops[i].type = type;
		ops[i].line = line;
		ops[i].value = set ? test_bit(line, bits) : 0;
		i++;
	}
	ret = vgpio_ops(vgpio, ops, n, false);
	for (i = 0; !ret && !set && i < n; i++) {
		if (ops[i].rvalue > 1) {
			dev_warn_ratelimited(&vgpio->vdev->dev, "line %u: value %u\n",
					     ops[i].line, ops[i].rvalue);
			ret = -EPROTO;
			break;
		}
		__assign_bit(ops[i].line, bits, ops[i].rvalue);
	}
	if (ops != &one)
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

	WRITE_ONCE(vgpio->lines[offset].held, false);
	vgpio_req(vgpio, VIRTIO_GPIO_MSG_SET_DIRECTION, offset,
		  VIRTIO_GPIO_DIRECTION_NONE, NULL);
}

static int virtio_gpio_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	u8 dir = READ_ONCE(vgpio->lines[offset].dir);
	int ret;

	/* Only the driver changes a direction: ask only when it is unknown. */
	if (dir == VGPIO_UNKNOWN) {
		ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_GET_DIRECTION, offset, 0,
				&dir);
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
		WRITE_ONCE(vgpio->lines[offset].dir, VGPIO_UNKNOWN);
		dev_warn_ratelimited(&vgpio->vdev->dev,
				     "line %u: unknown direction %u\n",
				     offset, dir);
		return -EPROTO;
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
	struct vgpio_op ops[] = {
		/* The value first, so the line never drives a stale level. */
		{ VIRTIO_GPIO_MSG_SET_VALUE, offset, !!value },
		{ VIRTIO_GPIO_MSG_SET_DIRECTION, offset, VIRTIO_GPIO_DIRECTION_OUT },
	};

	return vgpio_ops(vgpio, ops, ARRAY_SIZE(ops), false);
}

static int virtio_gpio_get(struct gpio_chip *gc, unsigned int offset)
{
	struct virtio_gpio *vgpio = gpiochip_get_data(gc);
	u8 value;
	int ret;

	ret = vgpio_req(vgpio, VIRTIO_GPIO_MSG_GET_VALUE, offset, 0, &value);
	if (ret)
		return ret;
	if (value > 1) {
		dev_warn_ratelimited(&vgpio->vdev->dev, "line %u: value %u\n",
				     offset, value);
		return -EPROTO;
	}
	return value;
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

static struct vgpio_line *irqd_to_line(struct irq_data *d)
{
	return &irqd_to_vgpio(d)->lines[irqd_to_hwirq(d)];
}

/**
 * vgpio_evt_want_locked() - have a line's event buffers queued, or its
 *	latched edge delivered, if it is due
 * @vgpio: the device
 * @line: the line
 * @work: run &virtio_gpio.evt_work for it; else the caller flushes
 *
 * The work runs in &virtio_gpio.evt_work: the irq core calls us under its
 * raw spinlock, where the virtqueue (which may allocate) must not be used
 * and no interrupt may be handled.
 */
static void vgpio_evt_want_locked(struct virtio_gpio *vgpio,
				  struct vgpio_line *line, bool work)
{
	lockdep_assert_held(&vgpio->evt_lock);

	if (!line->enabled || line->masked || line->queued || line->resync)
		return;
	if (list_empty(&line->evt_node))
		list_add_tail(&line->evt_node, &vgpio->evt_queue);
	if (work && vgpio->evt_live)
		irq_work_queue(&vgpio->evt_work);
}

/*
 * Hand an interrupt to the irq core; the caller marked the line masked, as
 * the flow handler is about to. Should the core not take it, the line is
 * unmasked again, or it would stay deaf.
 */
static void vgpio_deliver(struct virtio_gpio *vgpio, struct vgpio_line *line)
{
	unsigned long flags;

	atomic_inc(&line->irqs);
	if (!generic_handle_domain_irq(vgpio->gc.irq.domain, line - vgpio->lines))
		return;
	dev_warn_ratelimited(&vgpio->vdev->dev, "line %td: interrupt not handled\n",
			     line - vgpio->lines);
	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	line->masked = false;
	vgpio_evt_want_locked(vgpio, line, true);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
}

/**
 * vgpio_evt_flush() - deliver latched edges, queue event buffers
 * @vgpio: the device
 * @latched: deliver the latched edges too (else they stay queued)
 *
 * Called from &virtio_gpio.evt_work and from the event queue's callback,
 * which deliver, and from the irq bus unlock, which only re-arms.
 *
 * Return: true when latched edges were left queued.
 */
static bool vgpio_evt_flush(struct virtio_gpio *vgpio, bool latched)
{
	struct scatterlist req_sg, res_sg, *sgs[2] = { &req_sg, &res_sg };
	struct vgpio_line *line, *tmp;
	unsigned long flags;
	bool deliver, left, kick = false;
	LIST_HEAD(later);
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
		if (line->latched && !latched) {
			list_move_tail(&line->evt_node, &later);
			raw_spin_unlock(&vgpio->evt_lock);
			continue;
		}
		list_del_init(&line->evt_node);
		deliver = line->latched && line->enabled && !line->masked;
		line->latched = false;
		if (deliver)
			line->masked = true;
		if (deliver || !line->enabled || line->masked || line->queued ||
		    line->resync) {
			raw_spin_unlock(&vgpio->evt_lock);
			if (!deliver)
				continue;
			/* The handler masks and unmasks: nothing held here. */
			spin_unlock_irqrestore(&vgpio->evq_lock, flags);
			local_irq_save(flags);
			vgpio_deliver(vgpio, line);
			local_irq_restore(flags);
			spin_lock_irqsave(&vgpio->evq_lock, flags);
			continue;
		}
		line->queued = true;
		vgpio->evt_owned++;
		raw_spin_unlock(&vgpio->evt_lock);

		sg_init_one(&req_sg, &line->evt->req, sizeof(line->evt->req));
		sg_init_one(&res_sg, &line->evt->res, sizeof(line->evt->res));
		ret = virtqueue_add_sgs(vgpio->evt_vq, sgs, 1, 1, line,
					GFP_ATOMIC);
		if (ret) {
			/* First in line again when the device returns a buffer. */
			raw_spin_lock(&vgpio->evt_lock);
			line->queued = false;
			vgpio->evt_owned--;
			list_add(&line->evt_node, &vgpio->evt_queue);
			raw_spin_unlock(&vgpio->evt_lock);
			if (ret != -ENOSPC)
				dev_warn_ratelimited(&vgpio->vdev->dev,
						     "line %td: cannot queue event buffer: %d\n",
						     line - vgpio->lines, ret);
			break;
		}
		kick = true;
	}
	left = !list_empty(&later);
	if (left) {
		raw_spin_lock(&vgpio->evt_lock);
		list_for_each_entry_safe_reverse(line, tmp, &later, evt_node)
			list_move(&line->evt_node, &vgpio->evt_queue);
		raw_spin_unlock(&vgpio->evt_lock);
	}
	if (kick)
		kick = virtqueue_kick_prepare(vgpio->evt_vq);
	spin_unlock_irqrestore(&vgpio->evq_lock, flags);
	if (kick)
		virtqueue_notify(vgpio->evt_vq);
	return left;
}

static void vgpio_evt_work(struct irq_work *work)
{
	vgpio_evt_flush(container_of(work, struct virtio_gpio, evt_work), true);
}

/**
 * vgpio_event_one() - one event buffer back from the device
 * @vgpio: the device
 * @line: the line whose buffer it is (the token it was queued with)
 * @len: bytes the device wrote
 *
 * VALID on an enabled line is an interrupt; one that finds the line masked
 * (disable_irq() masks at once, lazy disable is off) is latched as the
 * device latches edges, and delivered at the unmask; a level is asked for
 * again after the unmask instead. INVALID is the device's answer to a line
 * being disabled. Anything else, or INVALID on a line the driver believes
 * enabled, means the device and the driver disagree: the line is brought
 * back in step later, not re-armed at once (a device that answers every
 * buffer at once must not keep a CPU busy here).
 */
static void vgpio_event_one(struct virtio_gpio *vgpio, struct vgpio_line *line,
			    unsigned int len)
{
	u8 status = line->evt->res.status;
	bool deliver = false, bad = false;
	unsigned long flags;

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	line->queued = false;
	vgpio->evt_owned--;
	if (line->stale) {
		line->stale = false;
		vgpio_evt_want_locked(vgpio, line, true);
	} else if (len != sizeof(line->evt->res) ||
		   (status != VIRTIO_GPIO_IRQ_STATUS_VALID &&
		    status != VIRTIO_GPIO_IRQ_STATUS_INVALID) ||
		   (status == VIRTIO_GPIO_IRQ_STATUS_INVALID && line->enabled)) {
		bad = true;
		line->resync = line->enabled && vgpio->evt_live;
	} else if (status == VIRTIO_GPIO_IRQ_STATUS_VALID && line->enabled) {
		/*
		 * The flow handler masks first thing; mask here already, so
		 * that nothing re-arms the line before it does.
		 */
		if (!line->masked) {
			line->masked = true;
			deliver = true;
		} else if (BIT(READ_ONCE(line->type)) & VGPIO_EDGE_TYPES) {
			line->latched = true;
		} else {
			vgpio_evt_want_locked(vgpio, line, true);
		}
	}
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);

	if (bad) {
		atomic_inc(&line->errors);
		dev_warn_ratelimited(&vgpio->vdev->dev,
				     "line %td: unexpected event (status %u, %u bytes)\n",
				     line - vgpio->lines, status, len);
		if (line->resync)
			mod_delayed_work(system_wq, &vgpio->resync_work,
					 msecs_to_jiffies(10));
	}
	if (deliver)
		vgpio_deliver(vgpio, line);
	wake_up(&vgpio->evt_wq);
}

/*
 * Every returned buffer is taken off the ring before any is handled: a
 * handler's unmask may queue a line's buffer again, and a head the device
 * returns twice must then find it free (the virtio core refuses it), not
 * in use by the new buffer.
 */
static void vgpio_event_done(struct virtqueue *vq)
{
	struct virtio_gpio *vgpio = vq->vdev->priv;
	struct vgpio_line *line, *done = NULL, **tail = &done;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&vgpio->evq_lock, flags);
	while ((line = virtqueue_get_buf(vq, &len))) {
		line->evt_len = len;
		*tail = line;
		tail = &line->evt_next;
	}
	*tail = NULL;
	spin_unlock_irqrestore(&vgpio->evq_lock, flags);

	while ((line = done)) {
		done = line->evt_next;
		vgpio_event_one(vgpio, line, line->evt_len);
	}
	/* Buffers of lines unmasked meanwhile, and those the full ring held. */
	vgpio_evt_flush(vgpio, true);
}

static void vgpio_evt_set_enabled(struct virtio_gpio *vgpio, unsigned int hw,
				  bool enabled)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	unsigned long flags;

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	line->enabled = enabled;
	if (!enabled) {
		line->latched = false;
		line->resync = false;
		/* What comes back of the buffer belongs to the old type. */
		line->stale = line->queued;
	}
	vgpio_evt_want_locked(vgpio, line, true);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
}

/**
 * vgpio_set_irq_type() - give a line a trigger type on the device
 * @vgpio: the device
 * @hw: the line
 * @type: VIRTIO_GPIO_IRQ_TYPE_*
 *
 * A change goes through NONE, as the specification asks, also when the
 * device's type is unknown (after a reset, or a request without a reply):
 * an ERR to that NONE only means the device had none. A request without a
 * reply leaves the type unknown.
 *
 * Return: 0, -EIO when the device refused @type, or why there is no reply.
 */
static int vgpio_set_irq_type(struct virtio_gpio *vgpio, unsigned int hw,
			      u8 type)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	if (type == line->dev_type)
		return 0;
	if (line->dev_type != VIRTIO_GPIO_IRQ_TYPE_NONE) {
		vgpio_evt_set_enabled(vgpio, hw, false);
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
	if (!ret)
		line->dev_type = type;
	else if (ret != -EIO)
		line->dev_type = VGPIO_UNKNOWN;
	return ret;
}

/**
 * vgpio_irq_sync_line() - give the device the trigger type the irq core wants
 * @vgpio: the device
 * @hw: the line
 *
 * The event buffers are queued only once the device has the type (also
 * when vgpio_irq_learn() left the line with it already). A type
 * the device refuses here (vgpio_irq_learn() normally told the irq core
 * already) is remembered for the line: later requests for it fail.
 */
static void vgpio_irq_sync_line(struct virtio_gpio *vgpio, unsigned int hw)
{
	struct vgpio_line *line = &vgpio->lines[hw];
	u8 want = line->active ? line->type : VIRTIO_GPIO_IRQ_TYPE_NONE;
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	ret = vgpio_set_irq_type(vgpio, hw, want);
	if (ret == -EIO && want != VIRTIO_GPIO_IRQ_TYPE_NONE) {
		line->rejected |= BIT(want);
		dev_warn(&vgpio->vdev->dev,
			 "line %u: the device refused interrupt type %#x: no interrupts\n",
			 hw, want);
	} else if (ret && ret != -ENODEV) {
		dev_warn_ratelimited(&vgpio->vdev->dev,
				     "line %u: interrupt type %#x not set: %d\n",
				     hw, want, ret);
	}
	if (!ret && want != VIRTIO_GPIO_IRQ_TYPE_NONE)
		vgpio_evt_set_enabled(vgpio, hw, true);
}

/**
 * vgpio_irq_learn() - learn which trigger types the device refuses
 * @vgpio: the device
 * @hw: the line whose interrupt is being requested
 *
 * The irq core lets only irq_set_type() fail a request, and it runs where
 * no request can be sent. So the first time an interrupt of the device is
 * requested, every type is tried once on that line (each undone through
 * NONE), and the answers hold for the whole device; a line that refuses
 * every type refuses them alone. Every line is then given the type it is
 * expected to get (the type it had, or EDGE_BOTH, gpiomon's default),
 * which stays set: a consumer asking for it costs no further request, and
 * a line that refuses what the device takes elsewhere refuses interrupts.
 * The line has no event buffer queued, so nothing can come of a probe.
 */
static void vgpio_irq_learn(struct virtio_gpio *vgpio, unsigned int hw)
{
	static const u8 types[] = {
		VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING,
		VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH, VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW,
		VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH,
	};
	struct vgpio_line *line = &vgpio->lines[hw];
	u16 ok = 0, refused = 0;
	u8 guess = line->type;
	unsigned int i;
	int ret;

	lockdep_assert_held(&vgpio->irq_lock);

	if (guess == VIRTIO_GPIO_IRQ_TYPE_NONE)
		guess = VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH;
	for (i = 0; i < ARRAY_SIZE(types) && !vgpio->caps_ok; i++) {
		if (types[i] == guess)
			continue;
		ret = vgpio_set_irq_type(vgpio, hw, types[i]);
		if (ret && ret != -EIO)
			return;
		if (ret)
			refused |= BIT(types[i]);
		else
			ok |= BIT(types[i]);
	}
	if ((vgpio->caps_refused | line->rejected) & BIT(guess))
		goto out;
	ret = vgpio_set_irq_type(vgpio, hw, guess);
	if (ret == -EIO)
		refused |= BIT(guess);
	else if (!ret)
		ok |= BIT(guess);
out:
	if (!vgpio->caps_ok && ok) {
		vgpio->caps_ok = ok;
		vgpio->caps_refused = refused;
	} else if (refused && !(refused & ~vgpio->caps_ok)) {
		/* Refused here what the device takes elsewhere. */
		line->rejected = VGPIO_EDGE_TYPES | VGPIO_LEVEL_TYPES;
	} else {
		line->rejected |= refused;
	}
}

static void vgpio_irq_mask(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	irqd_to_line(d)->masked = true;
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);

	gpiochip_disable_irq(&vgpio->gc, irqd_to_hwirq(d));
}

static void vgpio_irq_unmask(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	struct vgpio_line *line = irqd_to_line(d);
	unsigned long flags;

	gpiochip_enable_irq(&vgpio->gc, irqd_to_hwirq(d));

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	line->masked = false;
	/*
	 * Under the bus lock (the end of a threaded handler, enable_irq())
	 * its unlock queues the buffer: no irq_work, and no IPI, for it.
	 */
	vgpio_evt_want_locked(vgpio, line,
			      READ_ONCE(vgpio->bus_owner) != current);
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
}

static int vgpio_irq_set_type(struct irq_data *d, unsigned int type)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);
	struct vgpio_line *line = irqd_to_line(d);
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
	if ((vgpio->caps_refused | line->rejected) & BIT(vtype))
		return -EINVAL;

	line->type = vtype;
	return 0;
}

static void vgpio_irq_bus_lock(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);

	mutex_lock(&vgpio->irq_lock);
	WRITE_ONCE(vgpio->bus_owner, current);
}

static void vgpio_irq_bus_sync_unlock(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);

	vgpio_irq_sync_line(vgpio, irqd_to_hwirq(d));
	WRITE_ONCE(vgpio->bus_owner, NULL);
	mutex_unlock(&vgpio->irq_lock);
	/*
	 * Re-arm what was unmasked under the lock here, where the virtqueue
	 * may be used; a latched edge is delivered from the irq_work.
	 */
	if (vgpio_evt_flush(vgpio, false))
		irq_work_queue(&vgpio->evt_work);
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

	/*
	 * gpiochip_remove() frees the interrupts it finds requested, once;
	 * one requested after that would be left on a freed descriptor with
	 * the module pinned. vgpio_quiesce() sets @closing before it takes
	 * the bus lock that is held here, so every request either is in
	 * place by then or fails now.
	 */
	if (READ_ONCE(vgpio->closing) || READ_ONCE(vgpio->broken))
		return -ENODEV;

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
	/*
	 * A consumer of the interrupt alone (no GPIO request) leaves the line
	 * without a direction; devices take interrupts on inputs.
	 */
	if (READ_ONCE(line->dir) != VIRTIO_GPIO_DIRECTION_IN)
		virtio_gpio_direction_input(&vgpio->gc, hw);
	vgpio_irq_learn(vgpio, hw);
	line->active = true;
	/* disable_irq() masks at once: what comes meanwhile is latched here. */
	irq_set_status_flags(d->irq, IRQ_DISABLE_UNLAZY);
	return 0;
}

static void vgpio_irq_relres(struct irq_data *d)
{
	struct virtio_gpio *vgpio = irqd_to_vgpio(d);

	lockdep_assert_held(&vgpio->irq_lock);

	irqd_to_line(d)->active = false;
	gpiochip_relres_irq(&vgpio->gc, irqd_to_hwirq(d));
}

static const struct irq_chip vgpio_irq_chip = {
	.irq_mask		= vgpio_irq_mask,
	.irq_unmask		= vgpio_irq_unmask,
	.irq_set_type		= vgpio_irq_set_type,
	.irq_bus_lock		= vgpio_irq_bus_lock,
	.irq_bus_sync_unlock	= vgpio_irq_bus_sync_unlock,
	.irq_request_resources	= vgpio_irq_reqres,
	.irq_release_resources	= vgpio_irq_relres,
	.flags			= IRQCHIP_IMMUTABLE | IRQCHIP_SKIP_SET_WAKE,
};

/* Bring lines whose event answers contradicted their type back in step. */
static void vgpio_resync_work(struct work_struct *work)
{
	struct virtio_gpio *vgpio = container_of(to_delayed_work(work),
						 struct virtio_gpio, resync_work);
	unsigned long flags;
	unsigned int i;
	bool resync;

	mutex_lock(&vgpio->irq_lock);
	for (i = 0; i < vgpio->ngpio; i++) {
		raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
		resync = vgpio->lines[i].resync;
		raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
		if (!resync)
			continue;
		vgpio->lines[i].dev_type = VGPIO_UNKNOWN;
		vgpio_irq_sync_line(vgpio, i);
	}
	mutex_unlock(&vgpio->irq_lock);
}

/* Virtqueue setup and teardown, shared by probe/remove and freeze/restore */

static int vgpio_start(struct virtio_gpio *vgpio)
{
	struct virtqueue_info vqs_info[] = {
		{ .name = "requestq", .callback = vgpio_request_done },
		{ .name = "eventq", .callback = vgpio_event_done },
	};
	struct virtqueue *vqs[2] = { NULL, NULL };
	unsigned int i, size;
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

	vgpio->chunk = virtqueue_get_vring_size(vgpio->req_vq);
	size = 2 * vgpio->chunk;
	if (size > vgpio->pool_size) {
		struct vgpio_slot **pool = krealloc_array(vgpio->pool, size,
							  sizeof(*pool),
							  GFP_KERNEL);

		if (!pool) {
			ret = -ENOMEM;
			goto err;
		}
		vgpio->pool = pool;
		for (i = vgpio->pool_size; i < size; i++) {
			pool[i] = vgpio_slot_alloc(GFP_KERNEL);
			if (!pool[i]) {
				ret = -ENOMEM;
				goto err;
			}
			vgpio->pool_size++;
			vgpio->npool++;
		}
	}

	spin_lock_irqsave(&vgpio->req_lock, flags);
	vgpio->broken = false;
	vgpio->closing = false;
	spin_unlock_irqrestore(&vgpio->req_lock, flags);

	raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
	vgpio->evt_live = vgpio->has_irq;
	raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);
	return 0;
err:
	vgpio->vdev->config->del_vqs(vgpio->vdev);
	vgpio->req_vq = NULL;
	vgpio->evt_vq = NULL;
	return ret;
}

/**
 * vgpio_quiesce() - undo on the device what the driver set, before a reset
 * @vgpio: the device
 * @release: also give back the lines consumers hold (remove); on freeze
 *	directions and values stay, so a held output does not glitch
 *
 * The device keeps its state across the reset (a vhost-user back end never
 * sees one), so every line the driver gave a trigger type gets NONE and the event
 * buffers come back, with a bounded wait; the reset reclaims any the device
 * keeps. Requests of consumers fail from here on, those in flight too.
 */
static void vgpio_quiesce(struct virtio_gpio *vgpio, bool release)
{
	struct vgpio_line *line;
	struct vgpio_batch *b;
	struct vgpio_op *ops;
	unsigned long flags;
	unsigned int i, n = 0;

	/* Consumers waiting for a reply fail now, not at the reset. */
	spin_lock_irqsave(&vgpio->req_lock, flags);
	vgpio->closing = true;
	list_for_each_entry(b, &vgpio->inflight, node) {
		b->cut = true;
		complete(&b->done);
	}
	spin_unlock_irqrestore(&vgpio->req_lock, flags);

	ops = kvcalloc(vgpio->ngpio, sizeof(*ops), GFP_KERNEL);
	if (!ops) {
		/* Interrupt requests under way end before the removal goes on. */
		mutex_lock(&vgpio->irq_lock);
		mutex_unlock(&vgpio->irq_lock);
		return;
	}
	if (vgpio->has_irq) {
		mutex_lock(&vgpio->irq_lock);
		for (i = 0; i < vgpio->ngpio; i++) {
			line = &vgpio->lines[i];
			if (!line->evt || line->dev_type == VIRTIO_GPIO_IRQ_TYPE_NONE)
				continue;
			vgpio_evt_set_enabled(vgpio, i, false);
			ops[n++] = (struct vgpio_op){ VIRTIO_GPIO_MSG_IRQ_TYPE, i,
						      VIRTIO_GPIO_IRQ_TYPE_NONE };
		}
		vgpio_ops(vgpio, ops, n, true);
		for (i = 0; i < n; i++)
			vgpio->lines[ops[i].line].dev_type =
				ops[i].ret && ops[i].ret != -EIO ?
				VGPIO_UNKNOWN : VIRTIO_GPIO_IRQ_TYPE_NONE;
		mutex_unlock(&vgpio->irq_lock);
		/* NONE gives the held buffers back (INVALID). */
		wait_event_timeout(vgpio->evt_wq, !READ_ONCE(vgpio->evt_owned),
				   timeout_ms ? vgpio_timeout() : HZ);
	}
	for (i = 0, n = 0; release && i < vgpio->ngpio; i++)
		if (vgpio->lines[i].held || vgpio->lines[i].active)
			ops[n++] = (struct vgpio_op){ VIRTIO_GPIO_MSG_SET_DIRECTION, i,
						      VIRTIO_GPIO_DIRECTION_NONE };
	vgpio_ops(vgpio, ops, n, true);
	kvfree(ops);
}

/**
 * vgpio_stop() - reset the device and take every buffer back
 * @vgpio: the device
 *
 * Requests in flight end without a reply (a waiter that gave up has its
 * slot freed), new requests fail, and the event buffers return to the
 * driver. The device's trigger types are unknown from here on; the
 * directions are too, which restore (or the next probe) sorts out.
 */
static void vgpio_stop(struct virtio_gpio *vgpio)
{
	struct virtio_device *vdev = vgpio->vdev;
	struct vgpio_slot *slot;
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

	/* After the reset no callback runs and the device owns nothing. */
	virtio_reset_device(vdev);
	irq_work_sync(&vgpio->evt_work);
	cancel_delayed_work_sync(&vgpio->resync_work);

	spin_lock_irqsave(&vgpio->req_lock, flags);
	while ((slot = virtqueue_detach_unused_buf(vgpio->req_vq))) {
		slot->queued = false;
		if (!slot->batch) {
			vgpio_slot_free(slot);
		} else if (!--slot->batch->pending) {
			list_del_init(&slot->batch->node);
			complete(&slot->batch->done);
		}
	}
	wake_up_all(&vgpio->space_wq);
	spin_unlock_irqrestore(&vgpio->req_lock, flags);
	/* Every request is back: nothing has a deadline any more. */
	timer_delete_sync(&vgpio->deadline_timer);

	if (vgpio->evt_vq) {
		spin_lock_irqsave(&vgpio->evq_lock, flags);
		while (virtqueue_detach_unused_buf(vgpio->evt_vq))
			;
		spin_unlock_irqrestore(&vgpio->evq_lock, flags);

		raw_spin_lock_irqsave(&vgpio->evt_lock, flags);
		vgpio->evt_owned = 0;
		for (i = 0; i < vgpio->ngpio; i++) {
			vgpio->lines[i].queued = false;
			vgpio->lines[i].enabled = false;
			vgpio->lines[i].latched = false;
			vgpio->lines[i].resync = false;
			vgpio->lines[i].stale = false;
			list_del_init(&vgpio->lines[i].evt_node);
		}
		raw_spin_unlock_irqrestore(&vgpio->evt_lock, flags);

		mutex_lock(&vgpio->irq_lock);
		for (i = 0; i < vgpio->ngpio; i++)
			vgpio->lines[i].dev_type = VGPIO_UNKNOWN;
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
 * the block ends early leaves its line unnamed, with one warning in all;
 * padding after the last name is fine. Nothing here fails the probe.
 */
static void vgpio_read_names(struct virtio_gpio *vgpio, u32 size)
{
	struct device *dev = &vgpio->vdev->dev;
	unsigned int i, bad = 0, missing = 0;
	struct vgpio_slot *slot;
	const char **names;
	char *p, *end, *nul;
	int ret;

	if (size > VGPIO_NAMES_MAX) {
		dev_warn(dev, "line names block of %u bytes (over %u): lines are unnamed\n",
			 size, VGPIO_NAMES_MAX);
		return;
	}
	slot = vgpio_slot_alloc(GFP_KERNEL);
	if (!slot)
		return;
	slot->resp = kvzalloc(size + 1, GFP_KERNEL);
	if (!slot->resp) {
		kfree(slot);
		dev_warn(dev, "no memory for %u bytes of line names: lines are unnamed\n",
			 size);
		return;
	}
	slot->resp_len = size + 1;
	slot->req.type = cpu_to_le16(VIRTIO_GPIO_MSG_GET_NAMES);

	ret = vgpio_transfer(vgpio, &slot, 1, false);
	if (!ret)
		ret = vgpio_check(vgpio, slot);
	if (ret) {
		dev_warn(dev, "cannot read line names (%d): lines are unnamed\n",
			 ret);
		goto out;
	}

	names = kvcalloc(vgpio->ngpio, sizeof(*names), GFP_KERNEL);
	if (!names)
		goto out;

	p = (char *)slot->resp + 1;
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
	if (!missing && memchr_inv(p, '\0', end - p))
		bad++;

	ret = vgpio_check_names(vgpio, names);
	if (ret < 0) {
		kvfree(names);
		goto out;
	}
	bad += ret;
	if (bad || missing)
		dev_warn(dev, "line names: %u invalid, duplicated or stray, %u missing: those lines are unnamed\n",
			 bad, missing);

	vgpio->names = names;
	vgpio->names_buf = slot->resp;
	slot->resp = &slot->res;
out:
	if (slot)
		vgpio_slot_free(slot);
}

/* Read every line's direction, many per notification. */
static void vgpio_read_directions(struct virtio_gpio *vgpio)
{
	struct vgpio_op *ops;
	unsigned int i;

	ops = kvcalloc(vgpio->ngpio, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return;
	for (i = 0; i < vgpio->ngpio; i++) {
		ops[i].type = VIRTIO_GPIO_MSG_GET_DIRECTION;
		ops[i].line = i;
	}
	vgpio_ops(vgpio, ops, vgpio->ngpio, false);
	kvfree(ops);
}

/**
 * vgpio_use_names() - hand the line names to gpiolib
 * @vgpio: the device
 *
 * The chip keeps its parent's firmware node, so that device-tree (or ACPI)
 * consumers, hogs and gpio-line-names of the node keep working; names the
 * node gives win over the device's. Without a firmware node, the device's
 * names go through a software node that becomes the chip's node: that is
 * fast, where &gpio_chip.names is checked against every line of every chip
 * one name at a time (minutes for 65535 lines).
 */
static void vgpio_use_names(struct virtio_gpio *vgpio)
{
	struct property_entry props[] = {
		PROPERTY_ENTRY_STRING_ARRAY_LEN("gpio-line-names", vgpio->names,
						vgpio->ngpio),
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
	kvfree(vgpio->names_buf);
	vgpio->names_buf = NULL;
}

static void vgpio_free_mem(struct virtio_gpio *vgpio)
{
	unsigned int i;

	for (i = 0; i < vgpio->ngpio; i++)
		kfree(vgpio->lines[i].evt);
	for (i = 0; i < vgpio->npool; i++)
		vgpio_slot_free(vgpio->pool[i]);
	kfree(vgpio->pool);
	vgpio_free_names(vgpio);
	if (vgpio->swnode)
		fwnode_remove_software_node(vgpio->swnode);
	kvfree(vgpio->lines);
}

/* debugfs: <debugfs>/gpio-virtio/<virtio device>/stats */

static int vgpio_stats_show(struct seq_file *s, void *v)
{
	struct virtio_gpio *vgpio = s->private;
	struct vgpio_line *line;
	unsigned int i;

	seq_puts(s, "# line requests errors timeouts irqs\n");
	for (i = 0; i < vgpio->ngpio; i++) {
		line = &vgpio->lines[i];
		seq_printf(s, "%u %u %u %u %u\n", i, atomic_read(&line->requests),
			   atomic_read(&line->errors), atomic_read(&line->timeouts),
			   atomic_read(&line->irqs));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpio_stats);

/* The driver */

static int virtio_gpio_probe(struct virtio_device *vdev)
{
	struct device *dev = &vdev->dev;
	struct gpio_irq_chip *girq;
	struct virtio_gpio *vgpio;
	u32 names_size;
	unsigned int i;
	u16 ngpio;
	int ret;

	virtio_cread_le(vdev, struct virtio_gpio_config, ngpio, &ngpio);
	virtio_cread_le(vdev, struct virtio_gpio_config, gpio_names_size,
			&names_size);
	if (!ngpio) {
		dev_err(dev, "the device has no GPIO lines\n");
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
	INIT_LIST_HEAD(&vgpio->evt_queue);
	init_waitqueue_head(&vgpio->evt_wq);
	init_irq_work(&vgpio->evt_work, vgpio_evt_work);
	INIT_DELAYED_WORK(&vgpio->resync_work, vgpio_resync_work);
	mutex_init(&vgpio->irq_lock);

	vgpio->lines = kvcalloc(ngpio, sizeof(*vgpio->lines), GFP_KERNEL);
	if (!vgpio->lines)
		return -ENOMEM;
	for (i = 0; i < ngpio; i++) {
		INIT_LIST_HEAD(&vgpio->lines[i].evt_node);
		vgpio->lines[i].dir = VGPIO_UNKNOWN;
		/* A device may keep what an earlier driver left it. */
		vgpio->lines[i].dev_type = VGPIO_UNKNOWN;
		vgpio->lines[i].masked = true;
	}

	vdev->priv = vgpio;
	ret = vgpio_start(vgpio);
	if (ret)
		goto err_free;
	virtio_device_ready(vdev);

	if (names_size)
		vgpio_read_names(vgpio, names_size);
	if (vgpio->names)
		vgpio_use_names(vgpio);
	if (!vgpio->gc.names)
		vgpio_free_names(vgpio);
	/* gpiolib asks every line's direction when the chip is added. */
	vgpio_read_directions(vgpio);

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
	vgpio->gc.request = virtio_gpio_request;
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
	} else {
		dev_info(dev, "the device does not offer VIRTIO_GPIO_F_IRQ: no interrupts\n");
	}

	ret = gpiochip_add_data(&vgpio->gc, vgpio);
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
	vgpio_quiesce(vgpio, true);
	/* Fail what is still in flight, so gpiolib does not wait for it. */
	vgpio_stop(vgpio);
	gpiochip_remove(&vgpio->gc);
	/* Requests that raced the removal have failed; let them leave. */
	wait_var_event(&vgpio->users, !atomic_read(&vgpio->users));
	vgpio_free_mem(vgpio);
}

#ifdef CONFIG_PM_SLEEP
static int virtio_gpio_freeze(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;

	vgpio_quiesce(vgpio, false);
	vgpio_stop(vgpio);
	return 0;
}

/*
 * The device's state is unknown after the reset: give back what consumers
 * hold (directions, output values, trigger types), and nothing else; the
 * other lines' directions are asked again when needed.
 */
static int virtio_gpio_restore(struct virtio_device *vdev)
{
	struct virtio_gpio *vgpio = vdev->priv;
	struct vgpio_op *ops;
	unsigned int i, n = 0;
	int ret;

	ret = vgpio_start(vgpio);
	if (ret)
		return ret;
	virtio_device_ready(vdev);

	ops = kvcalloc(2 * vgpio->ngpio, sizeof(*ops), GFP_KERNEL);
	for (i = 0; i < vgpio->ngpio; i++) {
		struct vgpio_line *line = &vgpio->lines[i];
		u8 dir = line->dir;

		WRITE_ONCE(line->dir, VGPIO_UNKNOWN);
		if (!ops || !(line->held || line->active))
			continue;
		if (line->active && !line->held)
			dir = VIRTIO_GPIO_DIRECTION_IN;
		if (dir == VIRTIO_GPIO_DIRECTION_OUT)
			ops[n++] = (struct vgpio_op){ VIRTIO_GPIO_MSG_SET_VALUE, i,
						      line->val };
		if (dir == VIRTIO_GPIO_DIRECTION_OUT || dir == VIRTIO_GPIO_DIRECTION_IN)
			ops[n++] = (struct vgpio_op){ VIRTIO_GPIO_MSG_SET_DIRECTION, i,
						      dir };
	}
	if (n && vgpio_ops(vgpio, ops, n, false))
		dev_warn(&vdev->dev, "the lines' state was not all restored\n");
	kvfree(ops);

	if (vgpio->has_irq) {
		mutex_lock(&vgpio->irq_lock);
		for (i = 0; i < vgpio->ngpio; i++)
			if (vgpio->lines[i].active)
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
