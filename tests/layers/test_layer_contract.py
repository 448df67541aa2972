"""The drop-in contract, for every layer of the registry (:mod:`cases`).

A new layer gets every check here by one entry in ``cases.CASES``.
"""
import numpy as np
import pytest
from cases import CASES, build, forward, upstream

from fastprop.gradient import numerical_gradient

IDS = [c.name for c in CASES]
BY_DTYPE = [pytest.param(c, dt, id=f"{c.name}-{np.dtype(dt).name}") for c in CASES for dt in c.dtypes]


def _copies(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def _scalar_loss(case, layer, args, dout):
    """The scalar whose gradient backward computes: the loss itself, or ``sum(out * dout)``."""
    out = forward(case, layer, args)
    return float(out) if case.loss else float(np.sum(out * dout))


# --------------------------------------------------------------------------- shapes and dtypes


@pytest.mark.parametrize("case, dtype", BY_DTYPE)
def test_shapes_and_dtypes(case, dtype):
    layer, args = build(case, dtype)
    out = forward(case, layer, args)
    if case.loss:
        assert np.ndim(out) == 0 and np.isfinite(out)
    else:
        assert isinstance(out, np.ndarray) and out.dtype == dtype
    dx = layer.backward(upstream(case, out))
    if not case.grad_inputs:  # ids only: nothing to return, as the book's Embedding
        assert dx is None
    else:
        assert isinstance(dx, np.ndarray)
        assert dx.shape == np.shape(args[case.grad_inputs[0]])
        assert dx.dtype == dtype
    for p, g in zip(layer.params, layer.grads):
        assert g.shape == p.shape and g.dtype == p.dtype


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_is_float64_rounded(case):
    """The same layer in float32 gives the float64 results to float32 accuracy."""
    results = {}
    for dt in (np.float64, np.float32):
        layer, args = build(case, dt)
        out = forward(case, layer, args)
        dx = layer.backward(upstream(case, out))
        results[dt] = [np.asarray(out, np.float64)] + [
            a.astype(np.float64) for a in [dx, *layer.grads] if a is not None]
    for a, b in zip(results[np.float32], results[np.float64]):
        scale = max(float(np.abs(b).max()) if b.size else 0.0, 1.0)
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-5 * scale)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numerical_gradient_of_inputs_and_params(case):
    """Backprop equals central differences (float64) for every input and parameter."""
    layer, args = build(case, np.float64)
    out = forward(case, layer, args)
    dout = upstream(case, out)
    dx = layer.backward(dout if case.loss else dout.copy())
    grads = [g.copy() for g in layer.grads]
    for i in case.grad_inputs:
        x = np.array(args[i], dtype=np.float64)
        call = list(args)
        call[i] = x
        num = numerical_gradient(lambda _, call=call: _scalar_loss(case, layer, call, dout), x, h=1e-5)
        np.testing.assert_allclose(dx.reshape(x.shape), num, rtol=1e-6, atol=case.grad_atol)
    for p, g in zip(layer.params, grads):
        num = numerical_gradient(lambda _: _scalar_loss(case, layer, args, dout), p, h=1e-5)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=case.grad_atol)


# --------------------------------------------------------------------------- the book's conventions


@pytest.mark.parametrize("case, dtype", BY_DTYPE)
def test_inputs_are_not_mutated(case, dtype):
    """Neither forward nor backward changes its arguments (the book's Relu.backward writes
    into dout; fastprop returns a new array instead, which the book's callers accept)."""
    layer, args = build(case, dtype)
    before = _copies(args)
    out = forward(case, layer, args)
    dout = upstream(case, out)
    dout_before = np.array(dout, copy=True)
    layer.backward(dout)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_attributes_and_stable_gradients(case):
    """``params``/``grads`` lists (vol. 2), the book's attributes after forward, the
    caller's parameter arrays kept by reference, gradients written in place into the same
    arrays every backward."""
    layer, args = build(case)
    params = list(layer.params)
    assert isinstance(layer.params, list) and isinstance(layer.grads, list)
    assert len(layer.params) == len(layer.grads)
    out = forward(case, layer, args)
    for name in case.attributes:
        assert getattr(layer, name) is not None, name
    layer.backward(upstream(case, out))
    first = list(layer.grads)
    out = forward(case, layer, args)
    layer.backward(upstream(case, out, seed=2))
    assert all(a is b for a, b in zip(layer.params, params))
    assert all(a is b for a, b in zip(layer.grads, first))


WITH_PARAMS = [c for c in CASES if build(c)[0].params]


@pytest.mark.parametrize("case", WITH_PARAMS, ids=[c.name for c in WITH_PARAMS])
def test_in_place_parameter_update_is_seen_by_the_next_forward(case):
    layer, args = build(case)
    out1 = np.array(forward(case, layer, args), copy=True)
    for p in layer.params:
        p += 0.5
    out2 = forward(case, layer, args)
    assert not np.allclose(out1, out2)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_before_forward_is_a_value_error(case):
    layer, _ = build(case)
    with pytest.raises(ValueError, match="before forward"):
        layer.backward(1.0 if case.loss else np.ones((2, 2)))


@pytest.mark.parametrize("case", [c for c in CASES if not c.loss], ids=[c.name for c in CASES if not c.loss])
def test_dout_of_the_wrong_shape_is_a_value_error(case):
    layer, args = build(case)
    out = forward(case, layer, args)
    with pytest.raises(ValueError, match="dout"):
        layer.backward(np.ones(np.shape(out) + (2,)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("bad, kind", [
    (lambda x: x.astype(np.complex128), "complex128"),
    (lambda x: x.astype(object), "object"),
    (lambda x: np.full(x.shape, "a"), "<U1"),
])
def test_non_real_input_is_a_type_error(case, bad, kind):
    layer, args = build(case)
    args = list(args)
    args[0] = bad(np.asarray(args[0]))
    with pytest.raises(TypeError, match="real"):
        forward(case, layer, args)


@pytest.mark.parametrize("case", [c for c in CASES if c.loss], ids=[c.name for c in CASES if c.loss])
def test_non_real_dout_of_a_loss_is_a_type_error(case):
    layer, args = build(case)
    forward(case, layer, args)
    for bad in ("1", None, np.ones(2), True):
        with pytest.raises(TypeError, match="dout"):
            layer.backward(bad)
