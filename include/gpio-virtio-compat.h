/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Build gpio-virtio.c, written against the newest kernel API, on older
 * kernels. Kbuild force-includes this header and defines GV_HAVE_* from
 * what the target kernel's headers contain (not from version numbers, so
 * distribution backports are picked up):
 *
 * GV_HAVE_VQ_INFO: virtio_find_vqs() takes struct virtqueue_info (6.11).
 * GV_HAVE_SET_INT: gpio_chip .set and .set_multiple return int (6.17).
 * GV_HAVE_SET_RV:  gpio_chip has the transitional .set_rv and
 *                  .set_multiple_rv callbacks (6.15, and some stable trees).
 * GV_HAVE_REGISTER_OWNER: register_virtio_driver() records the module that
 *                  owns the driver (6.8); before, gpiolib could not pin the
 *                  module while lines are requested, and rmmod succeeded
 *                  under a consumer.
 *
 * kzalloc_obj() (present in 7.2, not in 6.12), timer_container_of()
 * (6.16, from_timer() before) and __dma_from_device_group_begin() (in
 * Debian's 6.12 and 7.2, not in 6.1) are macros, so they are simply tested
 * for.
 *
 * The driver does not use cleanup.h lock guards, so 6.1 needs no shim for
 * them; everything else it uses exists unchanged from 6.1 to 7.2.
 */
#ifndef GPIO_VIRTIO_COMPAT_H
#define GPIO_VIRTIO_COMPAT_H

#include <linux/cache.h>
#include <linux/dma-mapping.h>
#include <linux/gpio/driver.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#ifndef kzalloc_obj
#define kzalloc_obj(obj, gfp)		kzalloc(sizeof(obj), gfp)
#endif

#ifndef __dma_from_device_group_begin
/*
 * Keep a device-writable buffer on DMA cache lines of its own where DMA
 * is not coherent with the CPU caches (ARCH_DMA_MINALIGN), and add no
 * padding elsewhere.
 */
#ifdef ARCH_HAS_DMA_MINALIGN
#define ____dma_from_device_aligned	__aligned(ARCH_DMA_MINALIGN)
#else
#define ____dma_from_device_aligned
#endif
#define __dma_from_device_group_begin(GROUP) \
	__u8 __dma_group_begin__##GROUP[0] ____dma_from_device_aligned
#define __dma_from_device_group_end(GROUP) \
	__u8 __dma_group_end__##GROUP[0] ____dma_from_device_aligned
#endif

#ifndef timer_container_of
#define timer_container_of(var, t, field)	from_timer(var, t, field)
#endif

#ifndef GV_HAVE_REGISTER_OWNER
/* Set the owner that older register_virtio_driver() leaves unset. */
static inline int gv_register_virtio_driver(struct virtio_driver *drv)
{
	drv->driver.owner = THIS_MODULE;
	return register_virtio_driver(drv);
}

#define register_virtio_driver(drv)	gv_register_virtio_driver(drv)
#endif

#ifndef GV_HAVE_VQ_INFO
/**
 * struct virtqueue_info - one virtqueue for virtio_find_vqs()
 * @name: virtqueue name
 * @callback: done callback, or NULL
 * @ctx: unused here, kept for the newer API's shape
 */
struct virtqueue_info {
	const char *name;
	vq_callback_t *callback;
	bool ctx;
};

#define GV_COMPAT_MAX_VQS		2

/**
 * gv_compat_find_vqs() - virtio_find_vqs() with the struct virtqueue_info API
 * @vdev: the virtio device
 * @nvqs: number of virtqueues, at most GV_COMPAT_MAX_VQS
 * @vqs: where the virtqueues are stored
 * @vqs_info: name and callback per virtqueue
 * @desc: interrupt affinity hints
 *
 * Return: 0 or a negative errno.
 */
static inline int gv_compat_find_vqs(struct virtio_device *vdev,
				     unsigned int nvqs, struct virtqueue *vqs[],
				     struct virtqueue_info vqs_info[],
				     struct irq_affinity *desc)
{
	vq_callback_t *callbacks[GV_COMPAT_MAX_VQS];
	const char *names[GV_COMPAT_MAX_VQS];
	unsigned int i;

	if (nvqs > GV_COMPAT_MAX_VQS)
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
		callbacks[i] = vqs_info[i].callback;
		names[i] = vqs_info[i].name;
	}
	return virtio_find_vqs(vdev, nvqs, vqs, callbacks, names, desc);
}

#define virtio_find_vqs(vdev, nvqs, vqs, vqs_info, desc) \
	gv_compat_find_vqs(vdev, nvqs, vqs, vqs_info, desc)
#endif /* !GV_HAVE_VQ_INFO */

#ifndef GV_HAVE_SET_INT
/*
 * The driver defines virtio_gpio_set() and virtio_gpio_set_multiple()
 * returning int, as gpio_chip wants them from 6.17. Here the definitions
 * are renamed (the function-like macros below only match where the name is
 * followed by an argument list, i.e. the definitions) and the chip is given
 * void wrappers under the original names. Where .set_rv exists, the int
 * versions are installed there when the chip is added, so errors still
 * reach the caller.
 */
static int gv_compat_set(struct gpio_chip *gc, unsigned int offset,
			 int value);
static int gv_compat_set_multiple(struct gpio_chip *gc, unsigned long *mask,
				  unsigned long *bits);

static inline void virtio_gpio_set(struct gpio_chip *gc, unsigned int offset,
				   int value)
{
	gv_compat_set(gc, offset, value);
}

static inline void virtio_gpio_set_multiple(struct gpio_chip *gc,
					    unsigned long *mask,
					    unsigned long *bits)
{
	gv_compat_set_multiple(gc, mask, bits);
}

#define virtio_gpio_set(gc, offset, value) \
	gv_compat_set(gc, offset, value)
#define virtio_gpio_set_multiple(gc, mask, bits) \
	gv_compat_set_multiple(gc, mask, bits)

#ifdef GV_HAVE_SET_RV
/**
 * gv_compat_gpiochip_add_data() - install the int setters, then add the chip
 * @gc: the chip
 * @data: driver data for gpiochip_get_data()
 *
 * Return: 0 or a negative errno.
 */
static inline int gv_compat_gpiochip_add_data(struct gpio_chip *gc,
					      void *data)
{
	gc->set = NULL;
	gc->set_multiple = NULL;
	gc->set_rv = gv_compat_set;
	gc->set_multiple_rv = gv_compat_set_multiple;
	return gpiochip_add_data_with_key(gc, data, NULL, NULL);
}

#undef gpiochip_add_data
#define gpiochip_add_data(gc, data) gv_compat_gpiochip_add_data(gc, data)
#endif /* GV_HAVE_SET_RV */
#endif /* !GV_HAVE_SET_INT */

#endif /* GPIO_VIRTIO_COMPAT_H */
