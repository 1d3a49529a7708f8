"""The real libbpf consumer (``libbpf.so.1``) through ctypes.

The checker's Python consumer (``checker.kernel.consumer``) re-implements
libbpf's algorithm; running the genuine library on the same ring is how we
know the re-implementation delivers the same samples.  Only the three calls a
consumer needs are bound: ``ring_buffer__new``, ``ring_buffer__consume`` and
``ring_buffer__free``.
"""

from __future__ import annotations

import ctypes
import os

LIBBPF_SONAME = "libbpf.so.1"

Sample = tuple[int, bytes]

_SAMPLE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_library: ctypes.CDLL | None = None


def _load() -> ctypes.CDLL:
    global _library
    if _library is None:
        library = ctypes.CDLL(LIBBPF_SONAME, use_errno=True)
        library.ring_buffer__new.restype = ctypes.c_void_p
        library.ring_buffer__new.argtypes = [ctypes.c_int, _SAMPLE_FN, ctypes.c_void_p, ctypes.c_void_p]
        library.ring_buffer__consume.restype = ctypes.c_int
        library.ring_buffer__consume.argtypes = [ctypes.c_void_p]
        library.ring_buffer__free.restype = None
        library.ring_buffer__free.argtypes = [ctypes.c_void_p]
        _library = library
    return _library


def libbpf_available() -> tuple[bool, str]:
    """Return (True, "") if libbpf.so.1 loads and has the ring buffer API, else (False, reason)."""
    try:
        _load()
    except OSError as missing:
        return False, f"{LIBBPF_SONAME} not loadable: {missing} (Debian package libbpf1)"
    except AttributeError as old:
        return False, f"{LIBBPF_SONAME} lacks the ring buffer API: {old}"
    return True, ""


class LibbpfConsumer:
    """A libbpf ``struct ring_buffer`` on one ring map fd, collecting (size, bytes) samples.

    libbpf maps the ring pages itself, so this consumer and a ``RingMap`` on
    the same map share ``consumer_pos``.
    """

    def __init__(self, map_fd: int) -> None:
        self._library = _load()
        self._samples: list[Sample] = []
        self._callback_error: BaseException | None = None
        self._callback = _SAMPLE_FN(self._on_sample)  # kept alive as long as libbpf may call it
        handle = self._library.ring_buffer__new(map_fd, self._callback, None, None)
        if not handle:
            err = ctypes.get_errno()
            raise OSError(err, f"ring_buffer__new failed: {os.strerror(err)}")
        self._handle: int | None = handle

    def _on_sample(self, _ctx: int | None, data: int, size: int) -> int:
        try:
            self._samples.append((size, ctypes.string_at(data, size)))
        except BaseException as error:  # an exception must not unwind through C
            self._callback_error = error
            return -1
        return 0

    def consume(self) -> list[Sample]:
        """Run ``ring_buffer__consume`` once; return the samples it delivered, in order."""
        if self._handle is None:
            raise ValueError("libbpf consumer is closed")
        self._samples = []
        result = self._library.ring_buffer__consume(self._handle)
        if self._callback_error is not None:
            error, self._callback_error = self._callback_error, None
            raise error
        if result < 0:
            raise OSError(-result, f"ring_buffer__consume failed: {os.strerror(-result)}")
        return self._samples

    def close(self) -> None:
        if getattr(self, "_handle", None) is not None:
            handle, self._handle = self._handle, None
            self._library.ring_buffer__free(handle)

    def __enter__(self) -> LibbpfConsumer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
