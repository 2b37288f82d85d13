// SPDX-License-Identifier: GPL-2.0
/* kfwatch: a timer that feeds kfcount (a symbol another kmod exports). */
#include <linux/module.h>
#include <linux/timer.h>
#include <linux/jiffies.h>

long kfcount_add(long n);

static struct timer_list kfwatch_timer;

static void kfwatch_tick(struct timer_list *t)
{
	kfcount_add(1);
	mod_timer(&kfwatch_timer, jiffies + msecs_to_jiffies(1000));
}

static int __init kfwatch_init(void)
{
	timer_setup(&kfwatch_timer, kfwatch_tick, 0);
	mod_timer(&kfwatch_timer, jiffies + msecs_to_jiffies(1000));
	pr_info("kfwatch: counting into kfcount\n");
	return 0;
}

static void __exit kfwatch_exit(void)
{
	del_timer_sync(&kfwatch_timer);
}

module_init(kfwatch_init);
module_exit(kfwatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge real kmod: uses kfcount_add from kmod-kfcount");
