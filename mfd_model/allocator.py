"""The C allocator kept from handing freed tensor memory back to the system after every batch.

A CPU forward pass allocates and frees the same few-megabyte activations once per batch.
glibc's ``malloc`` returns such blocks to the operating system when they are freed (blocks
above the mmap threshold are unmapped; the top of the heap is trimmed), so the next batch
faults the same pages in again. On 2 cores this kernel time was about 30 % of ``mfd
predict``'s wall time (BENCHMARKS.md). Raising both thresholds keeps freed blocks for reuse;
the process then holds on to its peak memory instead of returning it between batches.

It is what ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824`` in the
environment does, set from inside the process. The ``mfd`` command line calls it at start;
a library import never changes the allocator of its host process.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1   # mallopt parameters of glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 << 20   # glibc's largest accepted mmap threshold on 64-bit systems
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True if both were set (False off glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
