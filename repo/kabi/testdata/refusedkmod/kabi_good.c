// The control: a module whose licence is not GPL-compatible (the test
// overwrites "GPL and additional rights" with "Proprietary", as for
// kabi_nongpl) using only plain, namespace-free exports. The kernel loads
// it. The tests' kernel variant makes kstrdup GPL-only and moves kmemdup into
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
MODULE_LICENSE("GPL and additional rights");
MODULE_DESCRIPTION("kabiforge test: control module the kernel loads");
