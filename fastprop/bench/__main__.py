"""``python -m fastprop.bench``: the same as ``fastprop bench``."""
import sys

from fastprop.bench.command import main

sys.exit(main())
