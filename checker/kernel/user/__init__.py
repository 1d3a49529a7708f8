"""The user ring buffer (BPF_MAP_TYPE_USER_RINGBUF) on the live kernel, against the model.

User space produces, a BPF program drains (docs/user-ringbuf.md, "The live
kernel").  Modules, in the order data flows:

- ``usermap.UserRingMap``: the map, its read-only consumer page and writable
  producer page and data area;
- ``producer``: libbpf's user producer, in Python on that mapping and as
  libbpf.so.1 itself through ctypes;
- ``btf`` and ``drain``: a drain program with a callback (BTF func_info) that
  records every sample's length and first payload word;
- ``scenario``: what user space does (honest or hostile) with drains between;
- ``run``: a scenario on the kernel; ``predict``: the same scenario on
  ``model.userring.operations.UserRingOperations``; ``diff``: the two compared;
- ``strategies`` and ``campaign``: many generated scenarios, the first
  disagreement shrunk; ``cli``: ``ringcheck kernel diff --map user``.
"""
