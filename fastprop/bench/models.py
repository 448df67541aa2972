"""The blocks of ``fastprop bench --models``: the steps of vol. 1 ch. 6-8 and vol. 2 ch. 3-6
beside the book's algorithm, timed as the TwoLayerNet rows are (interleaved rounds,
single-call medians with min-max, threads pinned, a pause between libraries).

Each block is a table of rows (:class:`RowSpec`): an implementation, a label, a factory
``factory(options, dtype) -> (step, library)`` and the dtypes it runs in. A new
implementation of a block is one more entry in its table (see :data:`CBOW_ROWS`); a new
block is one more :class:`Block` in :data:`BLOCKS`. The factories live in
:mod:`~fastprop.bench.steps_vol1` and :mod:`~fastprop.bench.steps_vol2`.
"""
import time
from collections import OrderedDict
from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np

from . import baseline
from . import steps_vol1 as v1
from . import steps_vol2 as v2
from .timing import round_share, time_steps


class RowSpec(NamedTuple):
    impl: str                # 'book' is the reference of its block (per ``size``)
    label: str
    factory: Callable
    dtypes: Optional[Tuple[str, ...]] = None  # None: every dtype of --dtypes
    size: str = ""           # rows are compared with the book row of the same size


class Block(NamedTuple):
    name: str
    volume: int
    title: Callable[[dict], str]
    rows: Callable[[dict], list]
    memory: Callable[[dict], int]   # bytes the block needs at its peak (all rows alive)


#: the issue's sizes; ``run(model_options=...)`` overrides them (the tests use tiny ones)
DEFAULTS = OrderedDict([
    ("batch", 100),                    # vol. 1 training steps
    ("im2col_shape", (100, 16, 28, 28)),
    ("infer_images", 100),             # DeepConvNet inference: images per timed call
    ("vocab", 10000),                  # Rnnlm, CBOW and the sampler
    ("rnn_batch", 20), ("rnn_time", 35), ("rnn_hidden", 100),   # D = H
    ("gen_words", 100),                # ch07 RnnlmGen.generate: words a call
    ("cbow_hidden", 100), ("cbow_window", 5), ("cbow_batch", 100),
    ("sampler_rows", 100), ("sample_size", 5),
    ("ppmi_vocab", 1000),              # fastprop's ppmi
    ("ppmi_book_vocab", 200),          # the book's O(V^2) Python loop, and fastprop beside it
])
#: the book's ppmi runs Python-level NumPy scalar arithmetic for each of the V^2 entries (one
#: run here: 186 ms at V 300 on a loaded 2-core machine, so ~8 s a call at this V and
#: minutes at V 10000)
MAX_PPMI_BOOK_VOCAB = 2000
F64, F32 = ("float64",), ("float32",)
V1, V2 = "float64", "float32"  # the book's dtypes: vol. 1 float64, vol. 2 'f'


def _conv(book, dropin, torch, gemms):
    return lambda o: [RowSpec("book", "book NumPy (reference)", book, F64),
                      RowSpec("dropin", "fastprop drop-in", dropin),
                      RowSpec("gemm", "the convolutions' GEMMs alone (SciPy BLAS)", gemms),
                      RowSpec("torch", "PyTorch", torch)]


def _multilayer_rows(o):
    return [RowSpec("book", "book NumPy (reference)", v1.book_multilayer, F64),
            RowSpec("dropin", "fastprop drop-in", v1.dropin_multilayer, F64),
            RowSpec("fused", "fastprop fused_step", v1.fused_multilayer),
            RowSpec("torch", "PyTorch", v1.torch_multilayer_step)]


def _im2col_rows(o):
    return [RowSpec("book", "book im2col (reference)", v1.book_im2col_row, F64, "im2col"),
            RowSpec("dropin", "fastprop.util.im2col", v1.dropin_im2col_row, F64, "im2col"),
            RowSpec("book", "book col2im (reference)", v1.book_col2im_row, F64, "col2im"),
            RowSpec("dropin", "fastprop.util.col2im", v1.dropin_col2im_row, F64, "col2im")]


def _vol2(book, dropin, torch=None, fast=None):
    def rows(o):
        out = [RowSpec("book", "book NumPy (reference)", book, F32),
               RowSpec("dropin", "fastprop drop-in", dropin, F32)]
        if fast is not None:
            out.append(RowSpec("fast", fast[0], fast[1], F32))
        if torch is not None:
            out.append(RowSpec("torch", "PyTorch", torch, F32))
        return out
    return rows


def _generate_rows(o):
    return _vol2(v2.book_generate, v2.dropin_generate)(o) + [
        RowSpec("fast", "fastprop.nets.Seq2seq.generate", v2.fast_generate, F32),
        RowSpec("fast", "fastprop Seq2seq.generate_batch (all in one call)", v2.fast_generate_batch, F32)]


#: the CBOW block's rows: the book's class, the drop-in, fastprop's compiled CBOW
#: (fastprop.nets.word2vec) both ways, PyTorch (its own negatives: see ``torch_cbow``)
CBOW_ROWS = [RowSpec("book", "book NumPy (reference)", v2.book_cbow, F32),
             RowSpec("dropin", "fastprop drop-in", v2.dropin_cbow, F32),
             RowSpec("fused", "fastprop CBOW.train_steps (book's numbers)", v2.compiled_cbow, F32),
             RowSpec("fused", "fastprop CBOW fast sampler + sparse Adam", v2.fast_cbow, F32),
             RowSpec("torch", "PyTorch (torch.multinomial negatives)", v2.torch_cbow, F32)]


def _ppmi_rows(o):
    small, big = f"V {o['ppmi_book_vocab']}", f"V {o['ppmi_vocab']}"
    rows = [RowSpec("book", "book NumPy loop (reference)", v2.book_ppmi, F32, small),
            RowSpec("dropin", "fastprop util_vol2.ppmi", v2.dropin_ppmi_small, F32, small)]
    if big != small:
        rows.append(RowSpec("dropin", "fastprop util_vol2.ppmi", v2.dropin_ppmi, F32, big))
    return rows


def _deep_bytes(n):
    # the book's per-layer im2col matrices (float64, kept for backward) dominate: ~3.5 MB an
    # image; the GEMMs-alone rows hold whole-batch columns too (~4 MB an image, both dtypes)
    return int(3.5e6 * n) * 3 + int(4e6 * n) + (200 << 20)


BLOCKS = OrderedDict((b.name, b) for b in [
    Block("convnet", 1, lambda o: f"SimpleConvNet step (gradient + Adam lr {v1.ADAM_LR}), "
          f"batch {o['batch']}", _conv(v1.book_simple, v1.dropin_simple, v1.torch_simple, v1.gemms_simple),
          lambda o: int(1.2e6 * o["batch"]) * 3 + int(0.5e6 * o["batch"]) + (100 << 20)),
    Block("deepnet", 1, lambda o: f"DeepConvNet step (gradient + Adam lr {v1.ADAM_LR}), "
          f"batch {o['batch']}", _conv(v1.book_deep, v1.dropin_deep, v1.torch_deep, v1.gemms_deep),
          lambda o: _deep_bytes(o["batch"])),
    Block("multilayer", 1, lambda o: "MultiLayerNetExtend 784-100x5-10, BatchNorm + Dropout "
          f"{v1.MLP_DROPOUT}, step (gradient + SGD lr {v1.MLP_LR}), batch {o['batch']}",
          _multilayer_rows, lambda o: 40_000 * o["batch"] + (50 << 20)),
    Block("im2col", 1, lambda o: "im2col / col2im of {}x{}x{}x{} images, 3x3 filter, stride 1, "
          "pad 1 (float64)".format(*o["im2col_shape"]), _im2col_rows,
          lambda o: 8 * 9 * 8 * int(np.prod(o["im2col_shape"])) + (50 << 20)),
    Block("deepinfer", 1, lambda o: f"DeepConvNet inference: accuracy over {o['infer_images']} "
          f"images, batches of {v1.INFER_BATCH}",
          _conv(v1.book_infer, v1.dropin_infer, v1.torch_infer, v1.gemms_infer),
          lambda o: 16 * 784 * o["infer_images"] + _deep_bytes(min(o["infer_images"], 100))),
    Block("rnnlm", 2, lambda o: f"ch06 Rnnlm step (V {o['vocab']}, D = H = {o['rnn_hidden']}, "
          f"batch {o['rnn_batch']}, T {o['rnn_time']}; remove_duplicate, clip_grads "
          f"{v2.RNN_CLIP}, SGD lr {v2.RNN_LR})",
          _vol2(v2.book_rnnlm, v2.dropin_rnnlm, v2.torch_rnnlm,
                ("fastprop.nets.Rnnlm", v2.fast_rnnlm)),
          lambda o: 4 * 16 * o["rnn_batch"] * o["rnn_time"] * o["vocab"] + (100 << 20)),
    Block("rnnlmgen", 2, lambda o: f"ch07 RnnlmGen.generate of {o['gen_words']} words (V {o['vocab']}, "
          f"D = H = {o['rnn_hidden']}; np.random.choice draws)",
          _vol2(v2.book_rnnlmgen, v2.dropin_rnnlmgen, fast=("fastprop.nets.RnnlmGen", v2.fast_rnnlmgen)),
          lambda o: 4 * 8 * o["vocab"] * o["rnn_hidden"] + (50 << 20)),
    Block("lstm", 2, lambda o: f"TimeLSTM forward + backward (N {o['rnn_batch']}, T "
          f"{o['rnn_time']}, D = H = {o['rnn_hidden']})",
          _vol2(v2.book_lstm, v2.dropin_lstm, v2.torch_lstm),
          lambda o: 4 * 64 * o["rnn_batch"] * o["rnn_time"] * o["rnn_hidden"] + (50 << 20)),
    Block("seq2seq", 2, lambda o: f"ch07 Seq2seq step (V {v2.S2S['V']}, D {v2.S2S['D']}, H "
          f"{v2.S2S['H']}, batch {v2.S2S['batch']}, T {v2.S2S['q']}/{v2.S2S['a'] - 1}; Trainer: "
          f"clip_grads {v2.S2S['clip']}, Adam)",
          _vol2(v2.book_seq2seq, v2.dropin_seq2seq, fast=("fastprop.nets.Seq2seq", v2.fast_seq2seq)),
          lambda o: (50 << 20)),
    Block("generate", 2, lambda o: f"ch07 Seq2seq.generate of {v2.S2S['questions']} questions one "
          f"at a time (eval_seq2seq's batch 1; H {v2.S2S['H']}, {v2.S2S['a'] - 1} answer tokens)",
          _generate_rows, lambda o: (20 << 20)),
    Block("cbow", 2, lambda o: f"ch04 CBOW step, negative sampling (V {o['vocab']}, H "
          f"{o['cbow_hidden']}, window {o['cbow_window']}, batch {o['cbow_batch']}, "
          f"5 negatives; remove_duplicate, Adam)", lambda o: list(CBOW_ROWS),
          lambda o: 4 * 40 * o["vocab"] * o["cbow_hidden"] + (50 << 20)),
    Block("sampler", 2, lambda o: f"UnigramSampler.get_negative_sample (V {o['vocab']}, "
          f"{o['sampler_rows']} rows x {o['sample_size']}, power 0.75; the book's draws)",
          _vol2(v2.book_sampler, v2.dropin_sampler), lambda o: 64 * o["vocab"] + (20 << 20)),
    Block("ppmi", 2, lambda o: "ppmi of a co-occurrence matrix (window 1, random corpus of "
          "10 V words); the book's double loop only at the small V", _ppmi_rows,
          lambda o: 24 * o["ppmi_vocab"] ** 2 + 24 * o["ppmi_book_vocab"] ** 2 + (20 << 20)),
])
GROUPS = {"vol1": [n for n, b in BLOCKS.items() if b.volume == 1],
          "vol2": [n for n, b in BLOCKS.items() if b.volume == 2]}
#: what ``--models`` accepts: ``twolayer`` (the TwoLayerNet sizes and the spiral fit, the
#: default), every block, the groups and ``all``
CHOICES = ("twolayer",) + tuple(BLOCKS) + tuple(GROUPS) + ("all",)


def expand(names) -> list:
    """``--models`` names -> the selected names in table order (``twolayer`` first)."""
    picked = set()
    for name in names:
        if name not in CHOICES:
            raise ValueError(f"unknown model block {name!r}; expected some of {', '.join(CHOICES)}")
        picked |= set(["twolayer", *BLOCKS] if name == "all" else GROUPS.get(name, [name]))
    if not picked:
        raise ValueError("models must name at least one block, e.g. twolayer or convnet")
    return [n for n in ("twolayer", *BLOCKS) if n in picked]


def check_options(options) -> dict:
    """:data:`DEFAULTS` updated with ``options``; ValueError for an unknown key or a value
    that is not a positive integer (``im2col_shape``: four of them)."""
    from ..validate import check_scalar, check_type

    opts = OrderedDict(DEFAULTS)
    for key, value in dict(options or {}).items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown model option {key!r}; expected one of {', '.join(DEFAULTS)}")
        if key == "im2col_shape":
            check_type(value, (tuple, list), "im2col_shape", "4 positive integers (N, C, H, W)")
            if len(value) != 4:
                raise ValueError(f"im2col_shape must be 4 positive integers (N, C, H, W), got {value!r}")
            value = tuple(check_scalar(v, "im2col_shape", int, low=1) for v in value)
        else:
            value = check_scalar(value, key, int, low=1)
        opts[key] = value
    if opts["infer_images"] % v1.INFER_BATCH and opts["infer_images"] > v1.INFER_BATCH:
        raise ValueError(f"infer_images must be at most {v1.INFER_BATCH} or a multiple of it (the "
                         f"book's accuracy loop drops a last partial batch), got {opts['infer_images']}")
    if opts["ppmi_book_vocab"] > MAX_PPMI_BOOK_VOCAB:
        raise ValueError(f"ppmi_book_vocab {opts['ppmi_book_vocab']}: the book's O(V^2) Python loop "
                         f"would take minutes a call; at most {MAX_PPMI_BOOK_VOCAB}")
    if opts["sample_size"] >= opts["vocab"]:
        raise ValueError(f"sample_size must be below vocab ({opts['vocab']}), got {opts['sample_size']}")
    return opts


def memory_bytes(names, opts) -> int:
    """Peak bytes of the largest selected block (blocks run one after another)."""
    return max([BLOCKS[n].memory(opts) for n in names if n in BLOCKS] or [0])


def _row_specs(block, opts, dtypes, impls):
    """``[(spec, dtype)]`` of the rows whose implementation is in ``impls`` (``fast`` rows
    count as ``fused``: the fastest fastprop path; ``gemm`` rows, a fastprop workload's
    GEMMs alone, come with ``dropin`` or ``fused``)."""
    out = []
    for spec in block.rows(opts):
        if spec.impl == "gemm":
            if not {"dropin", "fused"} & set(impls):
                continue
        elif ("fused" if spec.impl == "fast" else spec.impl) not in impls:
            continue
        for d in (spec.dtypes or dtypes):
            out.append((spec, d))
    return out


def build_rows(name, opts, dtypes, impls):
    """The rows of block ``name`` ready to time: ``[(spec, dtype, step, library, first_s)]``,
    each step called once (compiles, or loads from Numba's cache) before any timing."""
    rows = []
    for spec, d in _row_specs(BLOCKS[name], opts, dtypes, impls):
        step, lib = spec.factory(opts, d)
        t0 = time.perf_counter()
        step()
        rows.append((spec, d, step, lib, time.perf_counter() - t0))
    return rows


def time_block(name, opts, dtypes, impls, repeat, budget, rounds, switch, say) -> dict:
    """One block: its rows timed in ``rounds`` interleaved rounds; medians, min-max, the
    ratio to the book row of the same size and to the PyTorch row of the same size and dtype."""
    block = BLOCKS[name]
    say(f"{name}: building and compiling the rows ...")
    rows = build_rows(name, opts, dtypes, impls)
    times = [[] for _ in rows]
    for r in range(rounds):
        per_round = round_share(repeat, rounds, r)
        if per_round == 0:
            continue
        for i, (spec, d, step, lib, _) in enumerate(rows):
            say(f"{name}: {spec.label} {d}" + (f" (round {r + 1} of {rounds})" if rounds > 1 else "")
                + " ...")
            switch(lib)
            times[i].append(time_steps(step, per_round, budget / rounds))
    meds = [float(np.median(np.concatenate(ts))) for ts in times]
    book = {spec.size: m for (spec, *_), m in zip(rows, meds) if spec.impl == "book"}
    torch = {(spec.size, d): m for (spec, d, *_), m in zip(rows, meds) if spec.impl == "torch"}
    out_rows = []
    for (spec, d, _, lib, first), ts, med in zip(rows, times, meds):
        ts = np.concatenate(ts)
        vs_torch = torch.get((spec.size, d))
        out_rows.append(OrderedDict([
            ("impl", spec.impl), ("label", spec.label), ("dtype", d), ("size", spec.size),
            ("library", lib), ("n", len(ts)), ("median_s", med), ("min_s", float(ts.min())),
            ("max_s", float(ts.max())),
            ("speedup_vs_book", book[spec.size] / med if spec.size in book else None),
            ("speedup_vs_torch", vs_torch / med if vs_torch and spec.impl != "torch" else None),
            ("first_call_s", first), ("times_s", ts.tolist())]))
    source = baseline.of(opts, block.volume).source
    return OrderedDict([("block", name), ("volume", block.volume), ("title", block.title(opts)),
                        ("baseline", source), ("rows", out_rows)])
