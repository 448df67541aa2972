"""``exp`` and ``log`` that LLVM can vectorise: for the loops that call them once an element.

Numba lowers ``np.exp`` on a scalar to a call into libm, which stops the loop vectoriser,
so a sigmoid pass runs one element at a time. This ``exp`` is
straight-line arithmetic, no calls and no branches, so a loop over a contiguous array
that calls it compiles to SIMD code (AVX-512 where the CPU has it).

Method (Cody and Waite): ``exp(x) = 2**k * exp(r)`` with ``k = round(x / ln 2)`` and
``r = x - k ln 2`` taken in two parts (``LN2_HI`` has its low bits zero, so ``k * LN2_HI``
is exact), ``|r| <= ln(2) / 2``; ``exp(r)`` by its Taylor polynomial to degree 13
(truncation error < 5e-18 relative), ``2**k`` built from the exponent bits in two halves
so that results near the overflow and in the subnormal range come out right.
Accuracy: within 1 ulp of ``np.exp`` over the whole float64 range (tests/kernels/test_vmath.py);
``inf``, ``-inf``, ``nan``, overflow to ``inf`` and underflow to ``0`` as ``np.exp``.

``log`` is fdlibm's ``e_log.c`` method: ``x = 2**k (1 + f)`` with ``1 + f`` in
``[sqrt(2)/2, sqrt(2))`` (read off the bits), ``s = f / (2 + f)``, ``log(1 + f)`` from
fdlibm's degree-14 minimax polynomial in ``s**2``; within 1 ulp of ``np.log`` in the tests,
``0 -> -inf``, negative ``-> nan``, ``inf``, ``nan`` and subnormals as ``np.log``.

Both are computed in float64 for every input dtype (a float32 input gets a float64 result that the
caller stores back as float32: more accurate than ``expf``, same storage).
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import jit


@intrinsic
def _bits_as_float64(typingctx, n):
    """The float64 whose bit pattern is the int64 ``n`` (a register move, vectorisable)."""
    if n != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float64_bits(typingctx, x):
    """The int64 bit pattern of the float64 ``x``."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_as_float32(typingctx, n):
    """The float32 whose bit pattern is the low 32 bits of the integer ``n``."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        v = args[0]
        if n.bitwidth > 32:
            v = builder.trunc(v, ir.IntType(32))
        elif n.bitwidth < 32:
            v = builder.sext(v, ir.IntType(32))
        return builder.bitcast(v, ir.FloatType())

    return types.float32(n), codegen


_LO = -745.2  # below: exp underflows to 0 (after rounding)
_HI = 709.8  # above: exp overflows to inf


# "contract" lets the Horner steps become FMAs (fewer operations, and each rounds once);
# it does not touch NaN/inf handling, and no reassociation is allowed (Cody-Waite needs
# its order).
@jit(fastmath={"contract"})
def exp(x):
    """``e ** x`` for a real scalar, as a float64."""
    v = x if x > _LO else _LO  # clamped by hand: the builtin min/max compile overloads of
    v = v if v < _HI else _HI  # their own, ~0.15 s of a first run's compile (nan: see the end)
    k = np.floor(v * 1.4426950408889634 + 0.5)  # round(v / ln 2)
    r = v - k * 6.93147180369123816490e-01       # LN2_HI
    r = r - k * 1.90821492927058770002e-10       # LN2_LO
    p = 1.6059043836821613e-10                   # 1/13!
    p = p * r + 2.08767569878681e-09
    p = p * r + 2.505210838544172e-08
    p = p * r + 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 1.984126984126984e-04
    p = p * r + 1.388888888888889e-03
    p = p * r + 8.333333333333333e-03
    p = p * r + 4.1666666666666664e-02
    p = p * r + 1.6666666666666666e-01
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    ki = np.int64(k)  # in [-1075, 1024]: each half below fits an exponent field
    k1 = ki >> 1
    k2 = ki - k1
    e = p * _bits_as_float64((k1 + 1023) << 52) * _bits_as_float64((k2 + 1023) << 52)
    e = 0.0 if x < _LO else e
    return x if x != x else e  # nan stays nan (min/max above would have clamped it)



_TINY = 2.2250738585072014e-308  # smallest normal float64


@jit(fastmath={"contract"})
def log(x):
    """Natural log of a real scalar, as a float64."""
    v = np.float64(x)
    sub = v < _TINY
    v = v * 18014398509481984.0 if sub else v  # 2**54 lifts subnormals to normal
    bits = _float64_bits(v)
    k = (bits >> 52) - (1023 + 54 if sub else 1023)
    m = _bits_as_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # [1, 2)
    big = m > 1.4142135623730951
    m = m * 0.5 if big else m
    k = k + 1 if big else k
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                                               + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    R = t2 + t1
    hfsq = 0.5 * f * f
    dk = np.float64(k)
    r = dk * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + R) + dk * 1.90821492927058770002e-10)) - f)
    r = -np.inf if v == 0.0 else r
    r = np.nan if v < 0.0 else r
    r = v if v == np.inf else r
    return v if v != v else r


# float32 constants as typed globals: a Python float literal would promote the arithmetic to
# float64 (and halve the SIMD width, which is the point of exp32)
_F = np.float32
_LO32 = _F(-103.972084)   # below: expf underflows to 0 (after rounding)
_CLAMP_LO32, _CLAMP_HI32 = _F(-120.0), _F(89.0)
_LOG2E32, _HALF32, _ONE32, _ZERO32 = _F(1.44269504), _F(0.5), _F(1.0), _F(0.0)
_C1_32, _C2_32 = _F(0.693359375), _F(-2.12194440e-4)  # ln 2 in two parts (Cephes)
_P32 = (_F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3), _F(4.1665795894e-2),
        _F(1.6666665459e-1), _F(5.0000001201e-1))
_BIAS32, _SHIFT32, _ONE_I32 = np.int32(127), np.int32(23), np.int32(1)


@jit(fastmath={"contract"})
def exp32(x):
    """``e ** x`` in float32 arithmetic, as a float32: for loops over float32 arrays, where
    the float64 :func:`exp` runs at half the SIMD width and a degree-13 polynomial is more
    than float32 needs.

    Notes
    -----
    Cody-Waite reduction with ln 2 in two float32 parts, ``|r| <= ln(2) / 2``, Cephes'
    degree-5 ``expf`` polynomial for ``(exp(r) - 1 - r) / r**2``; ``2**k`` in two halves as in
    :func:`exp`, so subnormal results come out right. Within 1 ulp of ``float32(exp(x))``
    in the tests; ``nan``, ``inf``, ``-inf``, overflow and underflow as ``np.exp``.
    """
    xf = np.float32(x)
    v = min(max(xf, _CLAMP_LO32), _CLAMP_HI32)
    k = np.floor(v * _LOG2E32 + _HALF32)
    r = v - k * _C1_32
    r = r - k * _C2_32
    p = _P32[0]
    p = p * r + _P32[1]
    p = p * r + _P32[2]
    p = p * r + _P32[3]
    p = p * r + _P32[4]
    p = p * r + _P32[5]
    p = p * r * r + r + _ONE32
    ki = np.int32(k)  # in [-174, 129]: each half is a normal float32 exponent
    k1 = ki >> _ONE_I32
    k2 = ki - k1
    e = p * _bits_as_float32((k1 + _BIAS32) << _SHIFT32) * _bits_as_float32((k2 + _BIAS32) << _SHIFT32)
    e = _ZERO32 if xf < _LO32 else e
    return xf if xf != xf else e
