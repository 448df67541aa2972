"""The drop-in contract, for every layer of the registry (:mod:`cases`).

A new layer gets every check here by one entry in ``cases.CASES``.
"""
import numpy as np
import pytest
from cases import CASES, backward, build, forward, outputs, upstream

from fastprop.gradient import numerical_gradient

IDS = [c.name for c in CASES]
BY_DTYPE = [pytest.param(c, dt, id=f"{c.name}-{np.dtype(dt).name}") for c in CASES for dt in c.dtypes]


def _copies(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def _scalar_loss(case, layer, args, dout):
    """The scalar whose gradient backward computes: the loss itself, or ``sum(out * dout)``
    summed over the outputs (a cell's ``h`` and ``c``)."""
    out = forward(case, layer, args)
    if case.loss:
        return float(out)
    return float(sum(np.sum(o * d) for o, d in zip(outputs(out), outputs(dout))))


def _tied_pairs(params, grads):
    """``(array, summed gradient)`` per distinct array of ``params``: an array listed several
    times, or a transposed view of a listed one (a tied ``W.T``), sums its partial gradients
    (a transpose's gradient transposed back)."""
    listed = {id(p) for p in params}

    def owner(q):
        return q.base if q.base is not None and id(q.base) in listed else q

    owners = {id(owner(p)): owner(p) for p in params}
    out = []
    for w in owners.values():
        parts = []
        for q, g in zip(params, grads):
            if owner(q) is w:
                assert q is w or q.shape == w.shape[::-1], "a tied view must be the array or its .T"
                parts.append(g if q is w else g.T)
        out.append((w, sum(parts)))
    return out


# --------------------------------------------------------------------------- shapes and dtypes


@pytest.mark.parametrize("case, dtype", BY_DTYPE)
def test_shapes_and_dtypes(case, dtype):
    layer, args = build(case, dtype)
    out = forward(case, layer, args)
    if case.loss:
        assert np.ndim(out) == 0 and np.isfinite(out)
    else:
        assert len(outputs(out)) == case.n_outputs and isinstance(out, tuple) == (case.n_outputs > 1)
        assert all(isinstance(o, np.ndarray) and o.dtype == dtype for o in outputs(out))
    dxs = backward(layer, upstream(case, out))
    # ids in, nothing to return (the book's Embedding): backward returns None, an empty tuple here
    assert len(dxs) == len(case.grad_inputs)
    for i, dx in zip(case.grad_inputs, dxs):
        assert isinstance(dx, np.ndarray)
        assert dx.shape == np.shape(args[i])
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
        dxs = backward(layer, upstream(case, out))
        results[dt] = [np.asarray(o, np.float64) for o in outputs(out)] + [
            dx.astype(np.float64) for dx in dxs] + [g.astype(np.float64) for g in layer.grads]
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
    if case.loss:
        dxs = backward(layer, dout)
    else:  # copies: the gradient check below reuses dout
        dxs = backward(layer, tuple(d.copy() for d in dout) if isinstance(dout, tuple) else dout.copy())
    grads = [g.copy() for g in layer.grads]
    for i, dx in zip(case.grad_inputs, dxs):
        x = np.array(args[i], dtype=np.float64)
        call = list(args)
        call[i] = x
        num = numerical_gradient(lambda _, call=call: _scalar_loss(case, layer, call, dout), x, h=1e-5)
        np.testing.assert_allclose(dx.reshape(x.shape), num, rtol=1e-6, atol=case.grad_atol)
    pairs = list(zip(layer.params, grads))
    if case.tied:  # one array, several partial gradients: compare their sum
        pairs = _tied_pairs(layer.params, grads)
    for p, g in pairs:
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
    dout_before = [np.array(d, copy=True) for d in outputs(dout)]
    backward(layer, dout)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    for d, b in zip(outputs(dout), dout_before):
        np.testing.assert_array_equal(d, b)


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
    backward(layer, upstream(case, out))
    first = list(layer.grads)
    out = forward(case, layer, args)
    backward(layer, upstream(case, out, seed=2))
    assert all(a is b for a, b in zip(layer.params, params))
    assert all(a is b for a, b in zip(layer.grads, first))


WITH_PARAMS = [c for c in CASES if build(c)[0].params]


@pytest.mark.parametrize("case", WITH_PARAMS, ids=[c.name for c in WITH_PARAMS])
def test_in_place_parameter_update_is_seen_by_the_next_forward(case):
    layer, args = build(case)
    out1 = [np.array(o, copy=True) for o in outputs(forward(case, layer, args))]
    for p in layer.params:
        p += 0.5
    out2 = outputs(forward(case, layer, args))
    assert not all(np.allclose(a, b) for a, b in zip(out1, out2))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_before_forward_is_a_value_error(case):
    layer, _ = build(case)
    with pytest.raises(ValueError, match="before (a training )?forward"):
        layer.backward(*([1.0] if case.loss else [np.ones((2, 2))] * case.n_outputs))


@pytest.mark.parametrize("case", [c for c in CASES if not c.loss], ids=[c.name for c in CASES if not c.loss])
def test_dout_of_the_wrong_shape_is_a_value_error(case):
    layer, args = build(case)
    out = forward(case, layer, args)
    douts = outputs(upstream(case, out))
    for k in range(case.n_outputs):  # each output's dout in turn, the others right
        bad = list(douts)
        bad[k] = np.ones(np.shape(douts[k]) + (2,))
        with pytest.raises(ValueError, match="dout"):
            layer.backward(*bad)


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
