#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
static const struct file_operations fops = { .owner = THIS_MODULE };
static struct miscdevice dev = { .minor = MISC_DYNAMIC_MINOR, .name = "hello", .fops = &fops };
static int __init hello_init(void) { pr_info("hello loaded\n"); return misc_register(&dev); }
static void __exit hello_exit(void) { misc_deregister(&dev); }
module_init(hello_init); module_exit(hello_exit);
MODULE_LICENSE("GPL");
