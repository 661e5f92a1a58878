// SPDX-License-Identifier: GPL-2.0
/*
 * gv-irqtest: a test-only consumer of one GPIO line's interrupt for the
 * gpio-virtio test rig. Userspace can ask gpiolib for edge events only; this
 * module requests any trigger type, level types included, as a threaded
 * one-shot interrupt, and shows in debugfs how many interrupts it handled.
 *
 * Parameters: chip (the gpio_chip label), line, type (high, low, rising,
 * falling, both), request (0: leave requesting to debugfs), delay_ms (time
 * the handler thread sleeps per interrupt), keep_gpio (0: give the GPIO
 * back once its interrupt number is known, leaving a consumer of the
 * interrupt alone, as a device-tree "interrupts" consumer is).
 * /sys/kernel/debug/gv-irqtest/: count (read, write to reset), enabled
 * (0/1: disable_irq/enable_irq), requested (0/1: free_irq/
 * request_threaded_irq, a write fails with the request's error), wake (0/1:
 * disable_irq_wake/enable_irq_wake, a write fails with their error) and
 * value (the line's level; an error without the GPIO).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/gpio/consumer.h>
#include <linux/gpio/machine.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#define GV_NAME "gv-irqtest"

static char *chip;
module_param(chip, charp, 0444);
MODULE_PARM_DESC(chip, "label of the GPIO chip, as gpiodetect shows it");

static unsigned int line;
module_param(line, uint, 0444);
MODULE_PARM_DESC(line, "line offset on that chip");

static char *type = "rising";
module_param(type, charp, 0444);
MODULE_PARM_DESC(type, "trigger type: high, low, rising, falling or both");

static bool request = true;
module_param(request, bool, 0444);
MODULE_PARM_DESC(request, "request the interrupt at load (default), else through debugfs");

static unsigned int delay_ms;
module_param(delay_ms, uint, 0444);
MODULE_PARM_DESC(delay_ms, "milliseconds the handler thread sleeps per interrupt");

static bool keep_gpio = true;
module_param(keep_gpio, bool, 0444);
MODULE_PARM_DESC(keep_gpio, "keep the GPIO requested (default), else only the interrupt");

/**
 * struct gv_irqtest - the test consumer
 * @pdev: the device the GPIO is looked up for
 * @lookup: maps line @line of chip @chip to con_id "test" for @pdev
 * @desc: the GPIO, an input; NULL once given back (keep_gpio=0)
 * @irq: its interrupt
 * @trigger: IRQF_TRIGGER_* from the type parameter
 * @count: interrupts handled
 * @lock: serialises requesting, freeing, enabling and disabling
 * @requested: the interrupt is requested, under @lock
 * @enabled: the interrupt is enabled, under @lock
 * @dir: the debugfs directory
 */
struct gv_irqtest {
	struct platform_device *pdev;
	struct gpiod_lookup_table *lookup;
	struct gpio_desc *desc;
	int irq;
	unsigned long trigger;
	atomic_t count;
	struct mutex lock; /* @requested and @enabled */
	bool requested;
	bool enabled;
	struct dentry *dir;
};

static struct gv_irqtest *gv;

static const struct {
	const char *name;
	unsigned long trigger;
} gv_types[] = {
	{ "high", IRQF_TRIGGER_HIGH },
	{ "low", IRQF_TRIGGER_LOW },
	{ "rising", IRQF_TRIGGER_RISING },
	{ "falling", IRQF_TRIGGER_FALLING },
	{ "both", IRQF_TRIGGER_RISING | IRQF_TRIGGER_FALLING },
};

static irqreturn_t gv_irqtest_thread(int irq, void *data)
{
	struct gv_irqtest *t = data;

	atomic_inc(&t->count);
	if (delay_ms)
		msleep(delay_ms);
	return IRQ_HANDLED;
}

static int gv_irqtest_set_requested(struct gv_irqtest *t, bool on)
{
	int ret = 0;

	mutex_lock(&t->lock);
	if (on && !t->requested) {
		ret = request_threaded_irq(t->irq, NULL, gv_irqtest_thread,
					   IRQF_ONESHOT | t->trigger, GV_NAME,
					   t);
		if (ret) {
			pr_err("cannot request irq %d (%s): %d\n", t->irq, type,
			       ret);
		} else {
			t->requested = true;
			t->enabled = true;
		}
	} else if (!on && t->requested) {
		free_irq(t->irq, t);
		t->requested = false;
		t->enabled = false;
	}
	mutex_unlock(&t->lock);
	return ret;
}

static int gv_irqtest_set_enabled(struct gv_irqtest *t, bool on)
{
	int ret = 0;

	mutex_lock(&t->lock);
	if (!t->requested) {
		ret = -ENXIO;
	} else if (on && !t->enabled) {
		enable_irq(t->irq);
		t->enabled = true;
	} else if (!on && t->enabled) {
		disable_irq(t->irq);
		t->enabled = false;
	}
	mutex_unlock(&t->lock);
	return ret;
}

static int gv_count_get(void *data, u64 *val)
{
	struct gv_irqtest *t = data;

	*val = atomic_read(&t->count);
	return 0;
}

static int gv_count_set(void *data, u64 val)
{
	struct gv_irqtest *t = data;

	atomic_set(&t->count, val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(gv_count_fops, gv_count_get, gv_count_set, "%llu\n");

static int gv_enabled_get(void *data, u64 *val)
{
	struct gv_irqtest *t = data;

	mutex_lock(&t->lock);
	*val = t->enabled;
	mutex_unlock(&t->lock);
	return 0;
}

static int gv_enabled_set(void *data, u64 val)
{
	return gv_irqtest_set_enabled(data, val);
}

DEFINE_DEBUGFS_ATTRIBUTE(gv_enabled_fops, gv_enabled_get, gv_enabled_set,
			 "%llu\n");

static int gv_requested_get(void *data, u64 *val)
{
	struct gv_irqtest *t = data;

	mutex_lock(&t->lock);
	*val = t->requested;
	mutex_unlock(&t->lock);
	return 0;
}

static int gv_requested_set(void *data, u64 val)
{
	return gv_irqtest_set_requested(data, val);
}

DEFINE_DEBUGFS_ATTRIBUTE(gv_requested_fops, gv_requested_get,
			 gv_requested_set, "%llu\n");

static int gv_value_get(void *data, u64 *val)
{
	struct gv_irqtest *t = data;
	int ret;

	if (!t->desc)
		return -ENOENT;
	ret = gpiod_get_raw_value_cansleep(t->desc);
	if (ret < 0)
		return ret;
	*val = ret;
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(gv_value_fops, gv_value_get, NULL, "%llu\n");

static int gv_wake_set(void *data, u64 val)
{
	struct gv_irqtest *t = data;

	return val ? enable_irq_wake(t->irq) : disable_irq_wake(t->irq);
}

DEFINE_DEBUGFS_ATTRIBUTE(gv_wake_fops, NULL, gv_wake_set, "%llu\n");

static int __init gv_irqtest_init(void)
{
	struct gv_irqtest *t;
	unsigned int i;
	int ret;

	if (!chip || !*chip) {
		pr_err("the chip parameter is required\n");
		return -EINVAL;
	}
	if (line > U16_MAX) {
		pr_err("line %u out of range\n", line);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(gv_types); i++)
		if (!strcmp(type, gv_types[i].name))
			break;
	if (i == ARRAY_SIZE(gv_types)) {
		pr_err("unknown type '%s'\n", type);
		return -EINVAL;
	}

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->trigger = gv_types[i].trigger;
	atomic_set(&t->count, 0);
	mutex_init(&t->lock);

	/* Two entries: the line and the empty one that ends the table. */
	t->lookup = kzalloc(struct_size(t->lookup, table, 2), GFP_KERNEL);
	if (!t->lookup) {
		ret = -ENOMEM;
		goto err_free;
	}
	t->lookup->dev_id = GV_NAME;
	t->lookup->table[0].key = chip;
	t->lookup->table[0].chip_hwnum = line;
	t->lookup->table[0].con_id = "test";
	t->lookup->table[0].flags = GPIO_ACTIVE_HIGH;
	gpiod_add_lookup_table(t->lookup);

	t->pdev = platform_device_register_simple(GV_NAME, PLATFORM_DEVID_NONE,
						  NULL, 0);
	if (IS_ERR(t->pdev)) {
		ret = PTR_ERR(t->pdev);
		goto err_lookup;
	}

	t->desc = gpiod_get(&t->pdev->dev, "test", GPIOD_IN);
	if (IS_ERR(t->desc)) {
		ret = PTR_ERR(t->desc);
		pr_err("cannot get line %u of chip '%s': %d\n", line, chip, ret);
		goto err_pdev;
	}

	ret = gpiod_to_irq(t->desc);
	if (ret < 0) {
		pr_err("line %u of chip '%s' has no interrupt: %d\n", line,
		       chip, ret);
		goto err_gpio;
	}
	t->irq = ret;
	if (!keep_gpio) {
		gpiod_put(t->desc);
		t->desc = NULL;
	}

	if (request) {
		ret = gv_irqtest_set_requested(t, true);
		if (ret)
			goto err_gpio;
	}

	t->dir = debugfs_create_dir(GV_NAME, NULL);
	debugfs_create_file_unsafe("count", 0644, t->dir, t, &gv_count_fops);
	debugfs_create_file_unsafe("enabled", 0644, t->dir, t,
				   &gv_enabled_fops);
	debugfs_create_file_unsafe("requested", 0644, t->dir, t,
				   &gv_requested_fops);
	debugfs_create_file_unsafe("value", 0444, t->dir, t, &gv_value_fops);
	debugfs_create_file_unsafe("wake", 0200, t->dir, t, &gv_wake_fops);

	gv = t;
	pr_info("chip '%s' line %u: irq %d, type %s%s\n", chip, line, t->irq,
		type, request ? ", requested" : "");
	return 0;

err_gpio:
	if (t->desc)
		gpiod_put(t->desc);
err_pdev:
	platform_device_unregister(t->pdev);
err_lookup:
	gpiod_remove_lookup_table(t->lookup);
	kfree(t->lookup);
err_free:
	mutex_destroy(&t->lock);
	kfree(t);
	return ret;
}

static void __exit gv_irqtest_exit(void)
{
	struct gv_irqtest *t = gv;

	debugfs_remove_recursive(t->dir);
	gv_irqtest_set_requested(t, false);
	if (t->desc)
		gpiod_put(t->desc);
	platform_device_unregister(t->pdev);
	gpiod_remove_lookup_table(t->lookup);
	kfree(t->lookup);
	mutex_destroy(&t->lock);
	kfree(t);
}

module_init(gv_irqtest_init);
module_exit(gv_irqtest_exit);

MODULE_DESCRIPTION("Test-only GPIO interrupt consumer for the gpio-virtio test rig");
MODULE_LICENSE("GPL");
