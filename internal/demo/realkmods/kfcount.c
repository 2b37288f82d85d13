// SPDX-License-Identifier: GPL-2.0
/* kfcount: keeps a counter and exports kfcount_add to other modules. */
#include <linux/module.h>
#include <linux/atomic.h>

static atomic_long_t kfcount_total = ATOMIC_LONG_INIT(0);

long kfcount_add(long n)
{
	return atomic_long_add_return(n, &kfcount_total);
}
EXPORT_SYMBOL_GPL(kfcount_add);

static int __init kfcount_init(void)
{
	pr_info("kfcount: loaded\n");
	return 0;
}

static void __exit kfcount_exit(void)
{
	pr_info("kfcount: total %ld\n", atomic_long_read(&kfcount_total));
}

module_init(kfcount_init);
module_exit(kfcount_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge real kmod: exports a counter");
