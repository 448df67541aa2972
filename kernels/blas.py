"""A GEMM with ``alpha`` and ``beta = 1`` (``c += alpha * a @ b``) for use inside @njit.

``np.dot(a, b, out)`` always overwrites ``out``; an SGD step wants ``W -= lr * x.T @ dh``
in the GEMM itself, so the weight gradient is never written out and read back (on 2 cores
that round trip between the BLAS threads' caches costs more than the update's arithmetic).
This calls the same BLAS entry point as Numba's own ``np.dot`` (``numba_xxgemm``, SciPy's
BLAS), with the same layout rules, so it is cache-safe and uses the same thread pool.
"""
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np import linalg as _la


@intrinsic
def gemm_acc(typingctx, a, b, c, alpha):
    """``c += alpha * (a @ b)``; a (m, k), b (k, n), c (m, n) of one float dtype, each
    C- or F-contiguous (``x.T`` of a C array is F), ``c`` C-contiguous."""
    if not all(isinstance(t, types.Array) and t.ndim == 2 and t.layout in "CF" for t in (a, b, c)):
        return None
    if not (a.dtype == b.dtype == c.dtype) or c.layout != "C":
        return None
    sig = types.void(a, b, c, alpha)

    def codegen(context, builder, sig, args):
        _la.ensure_blas()
        a_ty, b_ty, c_ty, alpha_ty = sig.args
        arrays = [context.make_array(t)(context, builder, v) for t, v in zip((a_ty, b_ty, c_ty), args[:3])]
        a_shapes, b_shapes, c_shapes = (cgutils.unpack_tuple(builder, arr.shape) for arr in arrays)
        dtype = c_ty.dtype
        alpha_val = context.cast(builder, args[3], alpha_ty, dtype)
        alpha_slot = cgutils.alloca_once_value(builder, alpha_val)
        beta_slot = _la.make_constant_slot(context, builder, dtype, 1.0)
        fnty = ir.FunctionType(ir.IntType(32), [
            _la.ll_char, _la.ll_char, _la.ll_char, _la.intp_t, _la.intp_t, _la.intp_t,
            _la.ll_void_p, _la.ll_void_p, _la.intp_t, _la.ll_void_p, _la.intp_t, _la.ll_void_p,
            _la.ll_void_p, _la.intp_t])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        trans = ir.Constant(_la.ll_char, ord("t"))
        notrans = ir.Constant(_la.ll_char, ord("n"))

        def param(ty, shapes, arr):
            # row-major c = a @ b is column-major c^T = b^T a^T (as Numba's np.dot does)
            return (notrans if ty.layout == c_ty.layout else trans,
                    shapes[1] if ty.layout == "C" else shapes[0],
                    builder.bitcast(arr.data, _la.ll_void_p))

        transa, lda, data_a = param(b_ty, b_shapes, arrays[1])
        transb, ldb, data_b = param(a_ty, a_shapes, arrays[0])
        _, ldc, data_c = param(c_ty, c_shapes, arrays[2])
        m, k = a_shapes
        n = b_shapes[1]
        kind = ir.Constant(_la.ll_char, ord(_la.get_blas_kind(dtype)))
        res = builder.call(fn, (kind, transa, transb, n, m, k,
                                builder.bitcast(alpha_slot, _la.ll_void_p), data_a, lda,
                                data_b, ldb, builder.bitcast(beta_slot, _la.ll_void_p),
                                data_c, ldc))
        _la.check_blas_return(context, builder, res)
        return context.get_dummy_value()

    return sig, codegen
