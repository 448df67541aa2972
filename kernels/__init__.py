"""Numba kernels (installed as fastprop.kernels)."""
