// SPDX-License-Identifier: GPL-2.0
// A module built as for a kernel without CONFIG_PREEMPT: its first vermagic
// entry, the one the kernel reads, lacks the "preempt" flag.
#include <linux/module.h>
#include <generated/utsrelease.h>

static int __init kabi_vermagic_init(void)
{
	pr_info("kabi_vermagic loaded\n");
	return 0;
}

module_init(kabi_vermagic_init);
MODULE_INFO(vermagic, UTS_RELEASE " SMP mod_unload modversions ");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge test: vermagic flags differ from the kernel's");
