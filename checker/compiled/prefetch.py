"""A cache-prefetch hint for numba code: ``prefetch(array, i)`` asks the CPU to start loading ``array[i]``.

Why: a lookup in the visited set is a random read of a table far larger
than the caches, and in the BFS loop each one sits between some hundreds of
cycles of successor computation, so the processor never overlaps two of
them. The BFS (``bfs.bfs_chunk``) therefore computes the successors of a
group of states first, hints the table slots they will probe, and only then
looks them up: the reads overlap each other and the packing work.

The hint has no effect on any value (LLVM's ``llvm.prefetch`` intrinsic,
read access, high locality); an index out of range is not an error, it only
hints an address no load will use.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):  # noqa: ARG001  (numba passes the typing context)
    """Hint that ``arr[idx]`` (1-D) or row ``arr[idx]`` (2-D, its first element) will be read soon."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [args[1]] + [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, index, wraparound=False)
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [i8p, i32(0), i32(3), i32(1)])      # read, high locality, data cache
        return context.get_dummy_value()

    return sig, codegen
