/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator process: one vhost-user connection, the GPIO model and the
 * control clients, all serialized by one mutex.
 */
#ifndef VGPIO_SIM_SIM_H
#define VGPIO_SIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "vring.h"

#define SIM_NQUEUES		2
#define SIM_MAX_REGIONS		8

#define VIRTIO_GPIO_F_IRQ		0
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VIRTIO_F_VERSION_1		32

#define VHOST_USER_PROTOCOL_F_REPLY_ACK	3
#define VHOST_USER_PROTOCOL_F_CONFIG	9

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
	void *map;
	size_t map_len;
	uint8_t *host;		/* host address of gpa */
};

/* A buffer to put on the used ring later (delay, reorder, stall). */
struct vq_pend {
	uint16_t head;
	uint32_t len;		/* used length to report */
	bool twice;		/* put it on the used ring twice */
	uint64_t due;		/* CLOCK_MONOTONIC ns */
};

#define SIM_REORDER_MAX		64

struct sim_vq {
	struct vring vr;
	unsigned int num;
	uint64_t desc_uva, avail_uva, used_uva;
	bool addr_set;
	bool started;		/* kick fd received */
	bool enabled;		/* SET_VRING_ENABLE 1 */
	bool running;		/* translated and processing */
	int kick_fd, call_fd, err_fd;
	uint16_t base;		/* from SET_VRING_BASE */
	struct vring_chain **held;	/* chains waiting for a reply, by head */
	unsigned int held_num;
	bool stalled;		/* ctl "stall-queue": nothing processed */
	struct vq_pend *pend;	/* answered, not yet on the used ring */
	size_t npend, pend_cap;
	struct vq_pend reo[SIM_REORDER_MAX];	/* held by reorder faults */
	unsigned int reo_n, reo_want;
	uint64_t reo_due;
	bool call_armed;	/* irq-delay: a notification is due ... */
	uint64_t call_due;	/* ... at this time (CLOCK_MONOTONIC ns) */
};

struct sim {
	pthread_mutex_t lock;	/* protects everything below */
	pthread_cond_t cond;	/* broadcast when a line may have unmasked */
	struct model m;
	struct mem_region reg[SIM_MAX_REGIONS];
	unsigned int nreg;
	struct sim_vq vq[SIM_NQUEUES];
	uint64_t features, acked_features;
	uint64_t protocol_features, acked_protocol;
	uint8_t status;
	uint8_t *resp;		/* response scratch buffer */
	size_t resp_cap;
	bool verbose;
	bool once;
	int wake_fd[2];		/* signals and "quit" wake the main loop */
	int timer_fd;		/* eventfd: a deferred reply was queued */
	uint64_t crash_after;	/* --crash-after: 0 = never */
	uint64_t nreq_taken;	/* requests taken off the ring, ever */
	/*
	 * order shuffle: the requests of one scan of the request ring are
	 * executed in one random order and completed in another (@rng, a
	 * xorshift64* state, never 0); @scan holds them meanwhile.
	 */
	bool shuffle;
	uint64_t rng;
	struct vring_chain *scan;
	/*
	 * irq-delay: a notification goes out @irq_delay_ns after the used
	 * index that needs it was published. Whether it is needed is decided
	 * at publication (the call is on its way, as through an irqfd), or
	 * with @irq_recheck when it is due (the driver may have taken the
	 * buffers and said it needs no call meanwhile).
	 */
	uint64_t irq_delay_ns;
	bool irq_recheck;
};

#define SIM_SCAN_MAX		256	/* requests shuffled together, at most */
#define SIM_RNG_SEED		0x9e3779b97f4a7c15ULL

/* Set up the queue state; the model must be initialized. */
int sim_init(struct sim *s);

/* Serve one vhost-user connection. Returns 0 on disconnect, 1 on quit. */
int vu_serve(struct sim *s, int fd);
/* Forget everything about the front end (after a disconnect). */
void vu_reset(struct sim *s);
/* ctl "stall-queue"/"unstall-queue" (lock held). */
void vu_stall(struct sim *s, unsigned int q, bool on);

/* CLOCK_MONOTONIC in ns. */
uint64_t sim_now_ns(void);

/* Print "vgpio-sim: ..." and exit 1, removing the sockets. */
void sim_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						     noreturn));
void sim_log(struct sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sim_wake(struct sim *s, char why);

/* Control protocol: one line in, one reply out. Returns 1 for "quit". */
int ctl_exec(struct sim *s, char *line, char *reply, size_t cap);
int ctl_start(struct sim *s, int listen_fd);

#endif
