// SPDX-License-Identifier: GPL-2.0
/* kfmisc: a misc character device, /dev/kfmisc, that reads as a greeting. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>

static const char kfmisc_text[] = "hello from kfmisc\n";

static ssize_t kfmisc_read(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	return simple_read_from_buffer(buf, len, pos, kfmisc_text, sizeof(kfmisc_text) - 1);
}

static const struct file_operations kfmisc_fops = {
	.owner = THIS_MODULE,
	.read = kfmisc_read,
	.llseek = default_llseek,
};

static struct miscdevice kfmisc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kfmisc",
	.fops = &kfmisc_fops,
};

static int __init kfmisc_init(void)
{
	return misc_register(&kfmisc_dev);
}

static void __exit kfmisc_exit(void)
{
	misc_deregister(&kfmisc_dev);
}

module_init(kfmisc_init);
module_exit(kfmisc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge real kmod: a misc device");
