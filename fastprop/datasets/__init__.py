"""Data sets: MNIST / Fashion-MNIST (IDX files in a verified cache), vol. 2's spiral, PTB and
the sequence sets (addition, date)."""
from . import ptb, sequence, spiral
from .mnist import DataNotFoundError, data_dir, fetch, import_local, load_fashion_mnist, load_mnist, status

__all__ = ["load_mnist", "load_fashion_mnist", "fetch", "import_local", "data_dir", "status",
           "DataNotFoundError", "spiral", "ptb", "sequence"]
