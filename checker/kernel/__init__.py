"""Drive the running kernel's BPF ring buffer from pure Python (ctypes, no compiler).

The model in ``model/`` describes the ring buffer protocol; this package lets the
checker compare that description with the real thing: create a ring map, run a
scripted sequence of reserve/submit/discard/output/query calls inside one BPF
program run, read the shared pages, consume records the way libbpf does, and
classify which protocol variant the running kernel implements.

Entry points:

- ``bpf.kernel_available()``: can this process use bpf() at all?
- ``ringmap.RingMap``: a ring map with its pages mapped.
- ``script``: the ops (Reserve, Write, Submit, Discard, Output, Query).
- ``program.run_script`` / ``program.ScriptRunner``: run a script of ops
  (``codegen`` shows the program it becomes, ``insn`` the assembler).
- ``consumer.consume`` and ``libbpf.LibbpfConsumer``: the two consumers.
- ``probe.probe()``: which variant ("v5.8", "v5.13", "v6.10") this kernel is.
"""
