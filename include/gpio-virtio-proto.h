/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio GPIO device (virtio device ID 41) as the virtio specification
 * describes it: configuration space, request queue and event queue layouts.
 * All multi-byte fields are little-endian.
 */
#ifndef GPIO_VIRTIO_PROTO_H
#define GPIO_VIRTIO_PROTO_H

#include <linux/types.h>

/* Feature bit: the device has an event queue and interrupt support. */
#define VGPIO_F_IRQ			0

/* Virtqueue indexes. */
#define VGPIO_VQ_REQUEST		0
#define VGPIO_VQ_EVENT			1

/* Request types. */
#define VGPIO_MSG_GET_LINE_NAMES	0x0001
#define VGPIO_MSG_GET_DIRECTION		0x0002
#define VGPIO_MSG_SET_DIRECTION		0x0003
#define VGPIO_MSG_GET_VALUE		0x0004
#define VGPIO_MSG_SET_VALUE		0x0005
#define VGPIO_MSG_SET_IRQ_TYPE		0x0006

/* Response status. */
#define VGPIO_STATUS_OK			0x00
#define VGPIO_STATUS_ERR		0x01

/* Line directions. */
#define VGPIO_DIRECTION_NONE		0x00
#define VGPIO_DIRECTION_OUT		0x01
#define VGPIO_DIRECTION_IN		0x02

/* Interrupt trigger types. */
#define VGPIO_IRQ_TYPE_NONE		0x00
#define VGPIO_IRQ_TYPE_EDGE_RISING	0x01
#define VGPIO_IRQ_TYPE_EDGE_FALLING	0x02
#define VGPIO_IRQ_TYPE_EDGE_BOTH	0x03
#define VGPIO_IRQ_TYPE_LEVEL_HIGH	0x04
#define VGPIO_IRQ_TYPE_LEVEL_LOW	0x08

/* Event status written by the device into an event buffer. */
#define VGPIO_IRQ_STATUS_INVALID	0x00
#define VGPIO_IRQ_STATUS_VALID		0x01

/**
 * struct vgpio_config - device configuration space
 * @ngpio: number of lines
 * @padding: reserved
 * @gpio_names_size: size of the line names block, 0 when the lines are unnamed
 */
struct vgpio_config {
	__le16 ngpio;
	__u8 padding[2];
	__le32 gpio_names_size;
};

/**
 * struct vgpio_request - device-readable part of a request
 * @type: one of VGPIO_MSG_*
 * @gpio: line number
 * @value: request argument (direction, value or irq type)
 */
struct vgpio_request {
	__le16 type;
	__le16 gpio;
	__le32 value;
};

/**
 * struct vgpio_response - device-writable part of a request
 * @status: VGPIO_STATUS_OK or VGPIO_STATUS_ERR
 * @value: result of GET_DIRECTION or GET_VALUE
 *
 * GET_LINE_NAMES is answered with the status byte followed by the whole
 * names block instead.
 */
struct vgpio_response {
	__u8 status;
	__u8 value;
};

/**
 * struct vgpio_irq_request - device-readable part of an event buffer
 * @gpio: the line whose interrupt this buffer unmasks
 */
struct vgpio_irq_request {
	__le16 gpio;
};

/**
 * struct vgpio_irq_response - device-writable part of an event buffer
 * @status: VGPIO_IRQ_STATUS_VALID or VGPIO_IRQ_STATUS_INVALID
 */
struct vgpio_irq_response {
	__u8 status;
};

#endif /* GPIO_VIRTIO_PROTO_H */
