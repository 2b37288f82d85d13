// A module whose licence is not GPL-compatible using a GPL-only export
// (debugfs_create_dir is EXPORT_SYMBOL_GPL): the kernel refuses it. modpost
// refuses to link such a module, so it is built with a GPL-compatible
// licence string and the test overwrites that string in the .ko's .modinfo
// with "Proprietary" (same length, NUL-padded), as a module built outside
// kbuild would carry.
#include <linux/module.h>
#include <linux/debugfs.h>

static void *kabi_nongpl_ref = debugfs_create_dir;

static int __init kabi_nongpl_init(void)
{
	pr_info("kabi_nongpl %p\n", kabi_nongpl_ref);
	return 0;
}

module_init(kabi_nongpl_init);
MODULE_LICENSE("GPL and additional rights");
MODULE_DESCRIPTION("kabiforge test: non-GPL module using a GPL-only export");
