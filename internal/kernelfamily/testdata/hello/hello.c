// SPDX-License-Identifier: GPL-2.0
/* hello: the smallest module that uses a few vmlinux exports. */
#include <linux/module.h>
#include <linux/jiffies.h>

static int __init hello_init(void)
{
	pr_info("hello: %u ms per jiffy\n", jiffies_to_msecs(1));
	return 0;
}

static void __exit hello_exit(void)
{
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge kernelfamily test module");
