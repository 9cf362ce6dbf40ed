/* The "xrt" level's setup steps that make sense without a card (used by the
 * level and by tests/test_xrt.c). */
#ifndef SQ_RUNTIME_LEVEL_XRT_H
#define SQ_RUNTIME_LEVEL_XRT_H

#include <stddef.h>

/* Makes XRT safe to call: Debian's XRT 2.13 aborts the process (uncaught C++
 * exception) on its first error message unless XILINX_XRT names a prefix
 * whose lib/ holds libxrt_core.so.2. A XILINX_XRT that is set is checked;
 * when unset, a prefix is made under $XDG_CACHE_HOME/sparq/xrt (or
 * ~/.cache/sparq/xrt) with lib/ linking to the directory XRT was loaded from,
 * and XRT's console log is pointed at null through an xrt.ini there (unless
 * XRT_INI_PATH is set), so errors reach the user as sparq's one line.
 * Returns 0 or SQ_ERR_DEV. */
int sq_xrt_env(void);

/* Checks that path is an xclbin XRT can read, before XRT sees it (XRT 2.13
 * crashes on an empty file and accepts some truncated ones): the header
 * magic, length and section table, an EMBEDDED_METADATA and an IP_LAYOUT
 * section, then XRT's own parse. On success *n_kernels is XRT's kernel
 * count. Needs sq_xrt_env() first. SQ_ERR_IO for a missing file, SQ_ERR_FMT
 * with the reason otherwise. */
int sq_xrt_xclbin_check(const char *path, size_t *n_kernels);

#endif
