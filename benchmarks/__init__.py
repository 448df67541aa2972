"""asv suite for fastprop (``asv.conf.json`` at the repository root).

* ``bench_kernels``: every compiled kernel against its NumPy twin in ``fastprop.reference``;
* ``bench_train``: the training step (the book's NumPy loop, the drop-in net, the fused
  step) at three sizes, its peak memory, the vol. 2 spiral fit and one MNIST-sized epoch;
* ``bench_conv``, ``bench_recurrent``, ``bench_models``: the steps beyond ch. 5 (ConvNets,
  the time layers and Rnnlm, MultiLayerNetExtend, CBOW);
* ``bench_startup``: ``import fastprop`` plus the first step in a fresh interpreter, with a
  warm and a cold Numba cache.

Kernels compile in ``setup`` (one call), never inside a timed region. asv runs every
parameter combination in its own process, and some asv versions re-run ``setup`` before
every timed call, so ``setup`` keeps what it builds in a per-process memo (:mod:`._memo`).
"""
