"""fastprop.kernels.gru against its twin (the book's GRU with bias, step by step)."""
import parity
from test_recurrent import _case

CASES = {"gru_forward": _case("gru", False), "gru_backward": _case("gru", True)}

test_parity = parity.make_test("gru", CASES)
