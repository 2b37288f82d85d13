// The control: a module whose licence is not GPL-compatible using only
// plain, namespace-free exports (so modpost links it). The kernel loads it. The tests' kernel variant makes kstrdup GPL-only and moves kmemdup into
// a namespace: then it is refused for both.
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static void *kabi_good_refs[] = { kstrdup, kmemdup };

static int __init kabi_good_init(void)
{
	pr_info("kabi_good %p %p\n", kabi_good_refs[0], kabi_good_refs[1]);
	return 0;
}

module_init(kabi_good_init);
MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kabiforge test: control module the kernel loads");
