"""NumPy twins of the compiled kernels: the equivalence oracle, never a backend.

``fastprop/twins/<module>.py`` mirrors ``kernels/<module>.py`` function by function, with the
same names, signatures and in-place outputs, written the plain NumPy way (the way the book
writes it). The kernel tests compare every kernel with its twin in one process, and the
benchmarks time the twins beside the kernels. No runtime module of fastprop imports this
package (a test walks the import graph).
"""
