// SPDX-License-Identifier: GPL-2.0
/* signme is the module kabiforge's module-signing tests sign and verify. */
#include <linux/module.h>

static int __init signme_init(void)
{
	pr_info("kabiforge signme loaded\n");
	return 0;
}

static void __exit signme_exit(void)
{
}

module_init(signme_init);
module_exit(signme_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge module-signing test module");
