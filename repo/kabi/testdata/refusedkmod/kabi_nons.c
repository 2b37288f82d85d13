// SPDX-License-Identifier: GPL-2.0
// A module using dma_buf_put, exported in the DMA_BUF namespace, without
// MODULE_IMPORT_NS(DMA_BUF): the kernel refuses it.
#include <linux/module.h>
#include <linux/dma-buf.h>

static void *kabi_nons_ref = dma_buf_put;

static int __init kabi_nons_init(void)
{
	pr_info("kabi_nons %p\n", kabi_nons_ref);
	return 0;
}

module_init(kabi_nons_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kabiforge test: namespaced symbol without MODULE_IMPORT_NS");
