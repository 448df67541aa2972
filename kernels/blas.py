"""GEMMs for use inside @njit: ``gemm`` (``c = a @ b``) and ``gemm_acc`` (``c += alpha * a @ b``).

Both call the BLAS entry point Numba's own ``np.dot`` calls (``numba_xxgemm``, SciPy's
BLAS), with the same layout rules, so they are cache-safe and use the same thread pool.

``gemm_acc``: ``np.dot(a, b, out)`` always overwrites ``out``; an SGD step wants
``W -= lr * x.T @ dh`` in the GEMM itself, so the weight gradient is never written out and
read back (on 2 cores that round trip between the BLAS threads' caches costs more than the
update's arithmetic).

``gemm``: what ``np.dot(a, b, out)`` does for C- and F-contiguous operands, compiled in a
fraction of the time. Numba's ``np.dot`` compiles a generic implementation for every
combination of layouts it meets; here the call is emitted directly (measured, a function
with the three GEMMs of an affine layer: 0.55 s to compile with ``np.dot``, 0.15 s with
these). The fused ch05 step uses it: its compile is a new user's first wait. Kernels that
may meet non-contiguous ('A') operands keep ``np.dot``, which copies them; these refuse
them at compile time.
"""
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np import linalg as _la


def _gemm_codegen(context, builder, a_ty, b_ty, c_ty, a, b, c, alpha, beta):
    """Emit ``c = alpha * (a @ b) + beta * c`` (``alpha``, ``beta``: LLVM values of c's
    dtype) as one call of Numba's BLAS entry point, after a shape check that raises
    ValueError (a caller's bug must never let BLAS read past an array). Leading
    dimensions are at least 1, as BLAS wants even for empty operands; BLAS itself then
    does what NumPy does for empty sizes (nothing for m or n = 0, ``beta * c`` for k = 0)."""
    _la.ensure_blas()
    arrays = [context.make_array(t)(context, builder, v) for t, v in zip((a_ty, b_ty, c_ty), (a, b, c))]
    a_shapes, b_shapes, c_shapes = (cgutils.unpack_tuple(builder, arr.shape) for arr in arrays)
    m, k = a_shapes
    n = b_shapes[1]
    bad = builder.or_(builder.icmp_signed("!=", b_shapes[0], k),
                      builder.or_(builder.icmp_signed("!=", c_shapes[0], m),
                                  builder.icmp_signed("!=", c_shapes[1], n)))
    with cgutils.if_unlikely(builder, bad):
        context.call_conv.return_user_exc(builder, ValueError, ("gemm: the shapes of a, b and c do not match",))
    dtype = c_ty.dtype
    alpha_slot = cgutils.alloca_once_value(builder, alpha)
    beta_slot = cgutils.alloca_once_value(builder, beta)
    fnty = ir.FunctionType(ir.IntType(32), [
        _la.ll_char, _la.ll_char, _la.ll_char, _la.intp_t, _la.intp_t, _la.intp_t,
        _la.ll_void_p, _la.ll_void_p, _la.intp_t, _la.ll_void_p, _la.intp_t, _la.ll_void_p,
        _la.ll_void_p, _la.intp_t])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
    trans = ir.Constant(_la.ll_char, ord("t"))
    notrans = ir.Constant(_la.ll_char, ord("n"))
    one = ir.Constant(_la.intp_t, 1)

    def param(ty, shapes, arr):
        # row-major c = a @ b is column-major c^T = b^T a^T (as Numba's np.dot does)
        ld = shapes[1] if ty.layout == "C" else shapes[0]
        ld = builder.select(builder.icmp_signed("<", ld, one), one, ld)
        return (notrans if ty.layout == c_ty.layout else trans, ld,
                builder.bitcast(arr.data, _la.ll_void_p))

    transa, lda, data_a = param(b_ty, b_shapes, arrays[1])
    transb, ldb, data_b = param(a_ty, a_shapes, arrays[0])
    _, ldc, data_c = param(c_ty, c_shapes, arrays[2])
    kind = ir.Constant(_la.ll_char, ord(_la.get_blas_kind(dtype)))
    res = builder.call(fn, (kind, transa, transb, n, m, k,
                            builder.bitcast(alpha_slot, _la.ll_void_p), data_a, lda,
                            data_b, ldb, builder.bitcast(beta_slot, _la.ll_void_p),
                            data_c, ldc))
    _la.check_blas_return(context, builder, res)


def _operands_ok(a, b, c):
    """a (m, k), b (k, n), c (m, n) of one float dtype, each C- or F-contiguous (``x.T``
    of a C array is F), ``c`` C-contiguous."""
    return (all(isinstance(t, types.Array) and t.ndim == 2 and t.layout in "CF" for t in (a, b, c))
            and a.dtype == b.dtype == c.dtype and c.layout == "C")


@intrinsic
def gemm(typingctx, a, b, c):
    """``c = a @ b`` (``np.dot(a, b, c)``), operands as :func:`_operands_ok` says; empty
    sizes as NumPy; ValueError for shapes that do not match."""
    if not _operands_ok(a, b, c):
        return None

    def codegen(context, builder, sig, args):
        dt = sig.args[2].dtype
        _gemm_codegen(context, builder, *sig.args, *args,
                      context.get_constant(dt, 1.0), context.get_constant(dt, 0.0))
        return context.get_dummy_value()

    return types.void(a, b, c), codegen


@intrinsic
def gemm_acc(typingctx, a, b, c, alpha):
    """``c += alpha * (a @ b)``; operands as :func:`gemm`."""
    if not _operands_ok(a, b, c):
        return None

    def codegen(context, builder, sig, args):
        dt = sig.args[2].dtype
        _gemm_codegen(context, builder, *sig.args[:3], *args[:3],
                      context.cast(builder, args[3], sig.args[3], dt), context.get_constant(dt, 1.0))
        return context.get_dummy_value()

    return types.void(a, b, c, alpha), codegen
