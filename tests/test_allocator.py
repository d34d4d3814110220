"""keep_freed_memory: a freed 16 MB block stays with the process instead of going back to the system."""
import subprocess
import sys

import pytest

PROBE = r"""
import ctypes, os, sys
from mfd_model.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
size = 16 << 20
block = libc.malloc(size)
ctypes.memset(block, 1, size)          # fault every page in
before = rss()
libc.free(block)
print(before - rss())                  # bytes handed back to the system by free()
"""


def _released(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt: Linux only")
def test_freed_blocks_stay_with_the_process():
    assert _released("default") >= 15 << 20   # glibc's default: a 16 MB block is unmapped on free
    assert _released("keep") < 1 << 20        # with the raised thresholds it is kept for reuse
