"""The C library's functions Python does not wrap, where the platform has them (glibc's malloc_trim, Linux's prctl)."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def libc_function(name: str) -> Callable[..., int] | None:
    """The C library's function `name`, or None where there is none (musl has no malloc_trim, macOS no prctl)."""
    return getattr(_libc(), name, None)
