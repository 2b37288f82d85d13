// SPDX-License-Identifier: GPL-2.0
/*
 * hello is a tiny kernel module built by kabiforge's tests: it registers a
 * misc device and exports one symbol, so its .ko carries a real __versions
 * section, undefined symbols and a __ksymtab entry.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/slab.h>

static const struct file_operations hello_fops = {
	.owner = THIS_MODULE,
};

static struct miscdevice hello_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kabiforge_hello",
	.fops = &hello_fops,
};

static void *hello_buf;

int kabiforge_hello_answer(void)
{
	return 42;
}
EXPORT_SYMBOL(kabiforge_hello_answer);

static int __init hello_init(void)
{
	hello_buf = kmalloc(64, GFP_KERNEL);
	if (!hello_buf)
		return -ENOMEM;
	pr_info("kabiforge hello loaded\n");
	return misc_register(&hello_dev);
}

static void __exit hello_exit(void)
{
	misc_deregister(&hello_dev);
	kfree(hello_buf);
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge test module");
