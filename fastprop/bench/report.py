"""The report of ``fastprop bench``: machine facts on top, then one row per (size,
implementation, dtype), then the spiral block."""
from collections import OrderedDict
from typing import Optional

from .timing import PAUSE

LABELS = OrderedDict([
    ("book", "book NumPy (reference)"),
    ("dropin", "fastprop drop-in"),
    ("fused", "fastprop fused"),
    ("torch", "PyTorch"),
])


def size_name(size) -> str:
    """``(784, 50, 10, 100)`` -> ``'784-50-10 b100'``."""
    D, H, O, B = size
    return f"{D}-{H}-{O} b{B}"


def fmt_time(s: Optional[float]) -> str:
    """Seconds as microseconds (one decimal) below 1 ms, milliseconds (two) below 1 s, else
    seconds (two); ``'-'`` for None."""
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


HEADERS = ("size", "implementation", "dtype", "median", "min - max", "vs book",
           "GEMM bound", "x bound", "GEMMs alone", "steps")


def format_table(result: dict) -> str:
    """The report as text.

    Parameters
    ----------
    result : dict
        What :func:`fastprop.bench.run` returns (and ``--json`` writes).

    Returns
    -------
    str
        Machine facts, then one row per (size, implementation, dtype), the legend, and
        the spiral block when it ran.
    """
    m, v, c = result["machine"], result["versions"], result["compile"]
    s = result["settings"]
    twolayer = bool(result["rows"])
    lines = [
        "fastprop bench: one training step of TwoLayerNet (Affine-ReLU-Affine-SoftmaxWithLoss, "
        f"SGD lr {s['lr']}) on random MNIST-shaped data with integer labels; "
        + ("a new batch every step (x_train[batch_mask], the draw included)"
           if s.get("fresh_batches") else "the same batch every step (the step alone)"),
        f"data      book and drop-in rows: the book's loop on {s['book_input']} batches "
        "(load_mnist(normalize=True) is float32; the float64 net promotes them);",
        "          fused and PyTorch rows: batches in their own dtype (data cast once)",
    ] if twolayer else [
        "fastprop bench --models: the steps of vol. 1 ch. 6-8 and vol. 2 beside the book's "
        "algorithm, on random MNIST-shaped images and random word ids (one batch every step)"]
    lines += [
        f"machine   {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['platform']}",
        "versions  " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"threads   {s['threads']} for every BLAS" + (" and for torch" if "torch" in v else "")
        + f" (pinned); {PAUSE:.1f} s pause between blocks of different libraries",
    ]
    for p in result.get("blas", []):
        lines.append(f"  {p['user_api']:6s} {p['file']} ({p['owner'] or '?'}): {p['api']} "
                     f"{p['version']}, {p['threads']} thread{'' if p['threads'] == 1 else 's'}"
                     + (f", kernels for {p['architecture']}" if p.get("architecture") else ""))
    ct, l2 = m.get("OPENBLAS_CORETYPE"), m.get("OPENBLAS_L2_SIZE")
    if ct:
        lines += [
            f"NOTE      OPENBLAS_CORETYPE={ct} is set in the environment"
            + (f" (and OPENBLAS_L2_SIZE={l2})" if l2 else "") + ": OpenBLAS runs its",
            f"          {ct} kernels, not the ones for this CPU, which is slower here; compare "
            "with",
            "          env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE fastprop bench"]
    else:
        lines.append("openblas  OPENBLAS_CORETYPE not set: OpenBLAS picks the kernels for this CPU"
                     + (f" (OPENBLAS_L2_SIZE={l2})" if l2 else ""))
    peaks = result.get("peak_gflops", {})
    if peaks:
        lines.append(f"peak GEMM {s['peak_size']}^3: SciPy's BLAS (fastprop's kernels) "
                     + ", ".join(f"{d} {g:.1f}" for d, g in peaks["scipy"].items())
                     + " GFLOP/s; NumPy's BLAS "
                     + ", ".join(f"{d} {g:.1f}" for d, g in peaks["numpy"].items()) + " GFLOP/s")
    first = [f"{k} {val['seconds']:.2f} s ({val['source']})" for k, val in c.items()
             if isinstance(val, dict)]
    imp = c.get("import_fastprop_s")
    lines.append("startup   import fastprop + TwoLayerNet " + (f"{imp:.2f} s" if imp is not None else "?")
                 + " (fresh interpreter)" + ("; first step: " + ", ".join(first) if first else ""))
    other = m.get("other_processes_cpu_share")
    if other is not None:
        lines.append(f"load      other processes used {100 * other:.0f}% of the CPU time during the run"
                     + ("  <- WARNING: a busy machine distorts every number; rerun when idle"
                        if other > 0.05 else " (quiet machine)"))
    for note in result.get("notes", []):
        lines.append(f"note      {note}")
    if twolayer:
        lines += [""] + _twolayer_table(result)
    lines += format_blocks(result.get("blocks", []))
    return "\n".join(lines)


def _twolayer_table(result: dict) -> list:
    s = result["settings"]
    lines = []
    table = []
    prev = None
    for r in result["rows"]:
        size = tuple(r["size"])
        table.append((
            size_name(size) if size != prev else "", LABELS[r["impl"]], r["dtype"],
            fmt_time(r["median_s"]), f"{fmt_time(r['min_s'])} - {fmt_time(r['max_s'])}",
            "-" if r["speedup_vs_book"] is None else f"{r['speedup_vs_book']:.2f}x",
            f"{fmt_time(r['bound_s'])} ({r['gemms']})", f"{r['median_s'] / r['bound_s']:.2f}",
            fmt_time(r["gemms_measured_s"]), str(r["n"])))
        prev = size
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h)
              for i, h in enumerate(HEADERS)]
    right = {3, 4, 5, 6, 7, 8, 9}

    def fmt(row):
        return "  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                         for i, (cell, w) in enumerate(zip(row, widths))).rstrip()

    if result.get("twolayer_baseline"):
        lines.append(f"book rows: {result['twolayer_baseline']}")
    lines.append(fmt(HEADERS))
    lines.append("  ".join("-" * w for w in widths))
    for i, row in enumerate(table):
        if i and row[0]:
            lines.append("")
        lines.append(fmt(row))
    lines += [
        "",
        f"median/min/max: per-step times of single steps after warm-up, {s.get('rounds', 1)} "
        "interleaved round(s) per size; vs book: book median / median (higher is faster).",
        "GEMM bound (n GEMMs): the step's GEMM FLOPs / peak GEMM FLOP/s of SciPy's BLAS in that "
        "dtype; x bound: median / bound.",
        "  book 8 GEMMs (second forward for the loss, first layer's dx); drop-in 7 (no dx); "
        "fused and PyTorch 5.",
        "GEMMs alone: the step's GEMMs at their exact shapes and layouts, timed alone through "
        "SciPy's BLAS.",
    ]
    sp = result.get("spiral")
    if sp:
        lines += ["", "vol. 2 spiral fit (TwoLayerNet 2-10-3 sigmoid, SGD lr 1.0, 300 epochs of "
                  "batch 30, Trainer.fit quiet), whole fits alternating:"]
        if sp.get("baseline"):
            lines.append(f"  book row: {sp['baseline']}")
        for impl, label in (("book", "book NumPy net"), ("fastprop", "fastprop")):
            r = sp[impl]
            lines.append(f"  {label:15s} {fmt_time(r['median_s']):>9s}  "
                         f"{fmt_time(r['min_s'])} - {fmt_time(r['max_s'])}  "
                         f"last loss {r['last_loss']:.6f}  ({len(r['times_s'])} fits)")
        lines.append(f"  speedup (book median / fastprop median): {sp['speedup']:.1f}x")
    return lines


BLOCK_HEADERS = ("implementation", "dtype", "median", "min - max", "vs book", "vs PyTorch",
                 "first call", "calls")


def format_blocks(blocks) -> list:
    """The lines of the ``--models`` tables, one per block."""
    lines = []
    for b in blocks:
        table = []
        for r in b["rows"]:
            label = r["label"] + (f" [{r['size']}]" if r["size"] else "")
            vs, vt = r["speedup_vs_book"], r.get("speedup_vs_torch")
            table.append((label, r["dtype"], fmt_time(r["median_s"]),
                          f"{fmt_time(r['min_s'])} - {fmt_time(r['max_s'])}",
                          "-" if vs is None else f"{vs:.2f}x", "-" if vt is None else f"{vt:.2f}x",
                          fmt_time(r["first_call_s"]), str(r["n"])))
        widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h)
                  for i, h in enumerate(BLOCK_HEADERS)]

        def fmt(row, widths=widths):
            return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths))).rstrip()

        lines += ["", f"vol. {b['volume']} {b['block']}: {b['title']}"]
        if b.get("baseline"):
            lines.append(f"  book rows: {b['baseline']}")
        lines += ["  " + fmt(BLOCK_HEADERS),
                  "  " + "  ".join("-" * w for w in widths)]
        lines += ["  " + fmt(row) for row in table]
    if blocks:
        lines += ["", "--models rows: medians of single calls after a warm-up, interleaved rounds; "
                  "vs book: the book row's median / this median (the book row of the same "
                  "[size] where sizes differ); vs PyTorch: the PyTorch row of the same dtype / "
                  "this median; first call: the call before timing (compile or "
                  "Numba cache load). book rows: the book's classes (fastprop.bench.book, "
                  "or a checkout's common/ with --book-root); vol. 1 in float64, vol. 2 in float32 (the book's 'f')."]
    return lines
