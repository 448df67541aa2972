"""``fastprop run --volume 2`` on a small fake vol. 2 checkout (CI has no copy of the book):
scripts written here that use the same imports and call patterns as the book's ch02
count_method_small.py/ppmi.py, ch03/train.py, ch07/train_seq2seq.py and ch08/train.py, with
chapter-local modules running on fastprop's layers: a CBOW and an attention layer of their
own, and ch07/ch08's seq2seq models as fastprop transcribes them once
(:mod:`fastprop.bench.book.vol2_nets`, given the hooked ``common.time_layers``). The book's own
package modules raise if imported; the seq2seq scripts read tiny generated addition.txt /
date.txt files from the checkout's ``dataset/`` folder, as the book's scripts read theirs."""
import os
import re
import subprocess
import sys
import textwrap

from fastprop import dropin
from fastprop.datasets import sequence

BOOK_OWN = "raise RuntimeError('the book\\'s own {} was imported instead of fastprop\\'s')\n"
# every module of vol. 2's common/ and dataset/ folders
BOOK_FILES = {
    "common": ["__init__.py", "base_model.py", "config.py", "functions.py", "layers.py", "np.py",
               "optimizer.py", "time_layers.py", "trainer.py", "util.py"],
    "dataset": ["__init__.py", "ptb.py", "sequence.py", "spiral.py"],
}


def checkout(root, chapters=("ch",)):
    """A fake vol. 2 checkout whose book modules raise when imported (``__init__.py`` too:
    fastprop answers the packages themselves), with empty chapter folders."""
    for pkg, files in BOOK_FILES.items():
        os.makedirs(root / pkg, exist_ok=True)
        for f in files:
            (root / pkg / f).write_text(BOOK_OWN.format(f"{pkg}/{f}"))
    for ch in chapters:
        os.makedirs(root / ch, exist_ok=True)
    return root


def write(folder, name, text):
    (folder / name).write_text(textwrap.dedent(text).lstrip())


def run(cwd, script, *args, cache, timeout=600, stderr=None):
    """``fastprop run --volume 2 SCRIPT`` in ``cwd`` with an empty data cache; its stdout (and
    its stderr appended to the list ``stderr``)."""
    env = dict(os.environ, MPLBACKEND="Agg", FASTPROP_DATA=str(cache))
    r = subprocess.run([sys.executable, "-m", "fastprop", "run", "--volume", "2", script, *args], cwd=cwd,
                       env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "the book's own" not in r.stderr
    if stderr is not None:
        stderr.append(r.stderr)
    return r.stdout


def test_star_imports_give_the_names_the_books_modules_import():
    """``from common.time_layers import *`` gives ``np`` (the book's ch07/seq2seq.py uses it with
    no other import), the common.layers names, and vol. 2's Dropout (the book's vol. 2 class is
    vol. 1's: no rescaling; only TimeDropout is inverted)."""
    import numpy

    import fastprop.layers
    with dropin.book_imports(2):
        ns = {}
        exec("from common.time_layers import *", ns)
        assert ns["np"] is numpy and ns["GPU"] is False
        assert ns["Dropout"] is fastprop.layers.Dropout and ns["TimeLSTM"] is fastprop.layers.TimeLSTM
        assert ns["TimeDropout"] is fastprop.layers.TimeDropout
        assert {"MatMul", "Softmax", "Embedding", "softmax", "sigmoid", "cross_entropy_error"} <= set(ns)
        for module in ("common.np", "common.layers", "common.functions", "common.util", "common.optimizer",
                       "common.base_model", "dataset.sequence", "dataset.spiral"):
            ns = {}
            exec(f"from {module} import *", ns)
            assert ns.get("np", ns.get("numpy")) is numpy, module
        import dataset.sequence as seq
        assert seq.char_to_id is sequence.char_to_id and seq.get_vocab() == (seq.char_to_id, seq.id_to_char)


COUNT_METHOD = '''
import sys
sys.path.append('..')
import numpy as np
import matplotlib.pyplot as plt
from common.util import preprocess, create_co_matrix, cos_similarity, ppmi

corpus, word_to_id, id_to_word = preprocess('You say goodbye and I say hello.')
C = create_co_matrix(corpus, len(word_to_id), window_size=1)
W = ppmi(C)
U, S, V = np.linalg.svd(W)
np.set_printoptions(precision=3)
print(C[0])
print(W[0])
print(W[5])
print('cos', round(float(cos_similarity(C[word_to_id['you']], C[word_to_id['i']])), 4))
for word, word_id in word_to_id.items():
    plt.annotate(word, (U[word_id, 0], U[word_id, 1]))
plt.scatter(U[:, 0], U[:, 1], alpha=0.5)
plt.show()
'''


def test_count_method_and_ppmi(tmp_path):
    ch = checkout(tmp_path / "book", ["ch02"]) / "ch02"
    write(ch, "count_method.py", COUNT_METHOD)
    out = run(ch, "count_method.py", cache=tmp_path / "cache").splitlines()
    # the book's numbers for its text (log2 of N * C / (S_i * S_j), N = 14)
    assert out[0] == "[0 1 0 0 0 0 0]"
    assert out[1] == "[0.    1.807 0.    0.    0.    0.    0.   ]"
    assert out[2] == "[0.    0.807 0.    0.    0.    0.    2.807]"
    assert out[3] == "cos 0.7071"


SIMPLE_CBOW = '''
import sys
sys.path.append('..')
import numpy as np
from common.layers import MatMul, SoftmaxWithLoss


class TinyCBOW:
    def __init__(self, vocab_size, hidden_size):
        W_in = 0.01 * np.random.randn(vocab_size, hidden_size).astype('f')
        W_out = 0.01 * np.random.randn(hidden_size, vocab_size).astype('f')
        self.in0, self.in1, self.out = MatMul(W_in), MatMul(W_in), MatMul(W_out)
        self.loss_layer = SoftmaxWithLoss()
        self.params, self.grads = [], []
        for layer in (self.in0, self.in1, self.out):
            self.params += layer.params
            self.grads += layer.grads
        self.word_vecs = W_in

    def forward(self, contexts, target):
        h = (self.in0.forward(contexts[:, 0]) + self.in1.forward(contexts[:, 1])) * 0.5
        return self.loss_layer.forward(self.out.forward(h), target)

    def backward(self, dout=1):
        da = self.out.backward(self.loss_layer.backward(dout))
        da *= 0.5
        self.in1.backward(da)
        self.in0.backward(da)
'''

CBOW_TRAIN = '''
import sys
sys.path.append('..')
import numpy as np
from common.trainer import Trainer
from common.optimizer import Adam
from tiny_cbow import TinyCBOW
from common.util import preprocess, create_contexts_target, convert_one_hot

np.random.seed(3)
corpus, word_to_id, id_to_word = preprocess('You say goodbye and I say hello.')
contexts, target = create_contexts_target(corpus, window_size=1)
target = convert_one_hot(target, len(word_to_id))
contexts = convert_one_hot(contexts, len(word_to_id))
model = TinyCBOW(len(word_to_id), 5)
trainer = Trainer(model, Adam())
trainer.fit(contexts, target, 300, 3)
trainer.plot()
for word_id, word in id_to_word.items():
    print(word, model.word_vecs[word_id].shape, model.word_vecs[word_id].dtype)
print('losses', trainer.loss_list[0], trainer.loss_list[-1], len(trainer.loss_list))
'''


def test_cbow_training_with_the_vol2_trainer(tmp_path):
    ch = checkout(tmp_path / "book", ["ch03"]) / "ch03"
    write(ch, "tiny_cbow.py", SIMPLE_CBOW)
    write(ch, "train.py", CBOW_TRAIN)
    out = run(ch, "train.py", cache=tmp_path / "cache")
    lines = out.splitlines()
    assert re.fullmatch(r"\| epoch 1 \|  iter 1 / 2 \| time \d+\[s\] \| loss 1\.95", lines[0]), lines[0]
    assert sum(line.startswith("| epoch ") for line in lines) == 300
    assert "you (5,) float32" in out and ". (5,) float32" in out
    first, last, count = lines[-1].split()[1:]
    assert float(last) < 0.8 * float(first) and count == "300"


SEQ2SEQ = '''
import sys
sys.path.append('..')
import common.time_layers
from common.time_layers import *
from common.base_model import BaseModel
from fastprop.bench.book import vol2_nets


class Seq2seq(vol2_nets.Seq2seq, BaseModel):
    """ch07's model as fastprop transcribes it once, on the time layers the book's
    ``from common.time_layers import *`` finds, saved and loaded by ``common``'s BaseModel."""

    def __init__(self, V, D, H):
        super().__init__(V, D, H, layers=common.time_layers)
'''

SEQ2SEQ_TRAIN = '''
import sys
sys.path.append('..')
import numpy as np
import matplotlib.pyplot as plt
from dataset import sequence
from common.optimizer import Adam
from common.trainer import Trainer
from common.util import eval_seq2seq
from seq2seq import Seq2seq

(x_train, t_train), (x_test, t_test) = sequence.load_data('addition.txt')
char_to_id, id_to_char = sequence.get_vocab()
print('data', x_train.shape, t_train.shape, x_test.shape, len(char_to_id))
model = Seq2seq(len(char_to_id), 8, 24)
print('lstm from', type(model.encoder.lstm).__module__)
trainer = Trainer(model, Adam())
for epoch in range(4):
    trainer.fit(x_train, t_train, max_epoch=1, batch_size=16, max_grad=5.0)
    correct_num = 0
    for i in range(len(x_test)):
        question, correct = x_test[[i]], t_test[[i]]
        correct_num += eval_seq2seq(model, question, correct, id_to_char, i < 2, False)
    print('val acc %.3f%%' % (100.0 * correct_num / len(x_test)))
print('losses', trainer.loss_list[0], trainer.loss_list[-1])
plt.plot(np.arange(4), np.zeros(4), marker='o')
plt.show()
'''


def test_seq2seq_on_a_generated_addition_set(tmp_path):
    root = checkout(tmp_path / "book", ["ch07"])
    sequence.generate_addition(root / "dataset" / "addition.txt", n=400, seed=5)
    ch = root / "ch07"
    write(ch, "seq2seq.py", SEQ2SEQ)
    write(ch, "train_seq2seq.py", SEQ2SEQ_TRAIN)
    out = run(ch, "train_seq2seq.py", cache=tmp_path / "cache")
    assert "data (360, 7) (360, 5) (40, 7) 13" in out  # the book's shapes; 0-9 + _ and space
    assert "lstm from fastprop.layers." in out
    assert out.count("val acc ") == 4 and out.count("\nQ ") + out.startswith("Q ") == 8
    # eval_seq2seq prints the answer without its start id '_'
    assert re.search(r"^T \d+ *$", out, re.M) and re.search(r"^T _", out, re.M) is None
    first, last = map(float, out.splitlines()[-1].split()[1:])
    assert last < first


ATTENTION_LAYER = '''
import sys
sys.path.append('..')
from common.np import *
from common.layers import Softmax


class AttentionStep:
    """One decoder step: weights softmax(hs . h), context sum_t a_t hs_t."""

    def __init__(self):
        self.params, self.grads = [], []
        self.softmax = Softmax()

    def forward(self, hs, h):
        self.cache = (hs, h)
        self.a = self.softmax.forward((hs * h[:, None, :]).sum(axis=2))
        return (hs * self.a[:, :, None]).sum(axis=1)

    def backward(self, dc):
        hs, h = self.cache
        da = (hs * dc[:, None, :]).sum(axis=2)
        dhs = self.a[:, :, None] * dc[:, None, :]
        ds = self.softmax.backward(da)
        return dhs + ds[:, :, None] * h[:, None, :], (ds[:, :, None] * hs).sum(axis=1)


class TimeAttention:
    def __init__(self):
        self.params, self.grads, self.steps = [], [], []

    def forward(self, hs_enc, hs_dec):
        out = np.empty_like(hs_dec)
        self.steps = [AttentionStep() for _ in range(hs_dec.shape[1])]
        for t, step in enumerate(self.steps):
            out[:, t, :] = step.forward(hs_enc, hs_dec[:, t, :])
        return out

    def backward(self, dout):
        dhs_enc, dhs_dec = 0, np.empty_like(dout)
        for t, step in enumerate(self.steps):
            dhs, dh = step.backward(dout[:, t, :])
            dhs_enc += dhs
            dhs_dec[:, t, :] = dh
        return dhs_enc, dhs_dec
'''

ATTENTION_SEQ2SEQ = '''
import sys
sys.path.append('..')
import common.time_layers
from ch07.seq2seq import Seq2seq
from ch08.attention_layer import TimeAttention
from fastprop.bench.book import vol2_nets


class AttentionSeq2seq(Seq2seq):
    """ch08's model as fastprop transcribes it once, on fastprop's time layers, with this
    chapter's own attention layer in its decoder."""

    def __init__(self, V, D, H):
        vol2_nets.AttentionSeq2seq.__init__(self, V, D, H, layers=common.time_layers)
        self.decoder.attention = TimeAttention()
'''

ATTENTION_TRAIN = '''
import sys
sys.path.append('..')
import numpy as np
from dataset import sequence
from common.optimizer import Adam
from common.trainer import Trainer
from common.util import eval_seq2seq
from attention_seq2seq import AttentionSeq2seq
from ch07.seq2seq import Seq2seq
from ch07.peeky import Peeky  # its "from seq2seq import ..." is ch07's, not on sys.path

(x_train, t_train), (x_test, t_test) = sequence.load_data('date.txt')
char_to_id, id_to_char = sequence.get_vocab()
x_train, x_test = x_train[:, ::-1], x_test[:, ::-1]
print('data', x_train.shape, t_train.shape, x_test.shape)
model = AttentionSeq2seq(len(char_to_id), 8, 16)
print('from', type(model.decoder.lstm).__module__, type(model.decoder.attention).__module__)
trainer = Trainer(model, Adam())
for epoch in range(3):
    trainer.fit(x_train, t_train, max_epoch=1, batch_size=16, max_grad=5.0)
    correct_num = sum(eval_seq2seq(model, x_test[[i]], t_test[[i]], id_to_char, i < 1, is_reverse=True)
                      for i in range(len(x_test)))
    print('val acc %.3f%%' % (100.0 * correct_num / len(x_test)))
print('losses', trainer.loss_list[0], trainer.loss_list[-1])
model.save_params()
before = model.generate(x_test[[0]], t_test[0, 0], 10)
again = AttentionSeq2seq(len(char_to_id), 8, 16)
again.load_params()
print('reloaded', again.generate(x_test[[0]], t_test[0, 0], 10) == before)
'''


PEEKY = """
import sys
sys.path.append('..')
from common.time_layers import *
from seq2seq import Seq2seq


class Peeky(Seq2seq):
    pass
"""


def test_attention_seq2seq_on_a_generated_date_set(tmp_path):
    """Also the book's ch08/train.py import of ``ch07.peeky_seq2seq``, whose ``from seq2seq
    import ...`` plain python cannot resolve (ch07 is not on sys.path; the book's issue #19):
    fastprop run finds it next to the importing module and says so on stderr."""
    root = checkout(tmp_path / "book", ["ch07", "ch08"])
    sequence.generate_date(root / "dataset" / "date.txt", n=200, seed=2)
    write(root / "ch07", "seq2seq.py", SEQ2SEQ)
    write(root / "ch07", "peeky.py", PEEKY)
    ch = root / "ch08"
    write(ch, "attention_layer.py", ATTENTION_LAYER)
    write(ch, "attention_seq2seq.py", ATTENTION_SEQ2SEQ)
    write(ch, "train.py", ATTENTION_TRAIN)
    err = []
    out = run(ch, "train.py", cache=tmp_path / "cache", stderr=err)
    assert f"'seq2seq' imported from {root / 'ch07'}" in err[0]
    assert "data (180, 29) (180, 11) (20, 29)" in out
    assert re.search(r"^from fastprop\.layers\.\S+ ch08\.attention_layer$", out, re.M), out[:500]
    assert out.count("val acc ") == 3
    q = re.search(r"^Q (.*)$", out, re.M).group(1)  # printed the right way round again
    assert re.fullmatch(r"[\w ,/]+", q) and not q.startswith(" "), q
    first, last = map(float, re.search(r"^losses (\S+) (\S+)$", out, re.M).groups())
    assert last < first
    assert "reloaded True" in out and (ch / "AttentionSeq2seq.pkl").is_file()


def test_sibling_imports_only_inside_the_checkout_and_only_as_a_last_resort(tmp_path):
    """A module's own folder is searched only for names nothing else finds, and only for chapter
    folders of the checkout; elsewhere a missing module is python's ModuleNotFoundError."""
    root = checkout(tmp_path / "book", ["ch1", "ch2"])
    write(root / "ch1", "helper.py", "WHO = 'ch1 helper'\n")
    write(root / "ch1", "user.py", "from helper import WHO\n")
    write(root / "ch2", "helper.py", "WHO = 'ch2 helper'\n")  # on sys.path: wins
    write(root / "ch2", "script.py", """
        import sys
        sys.path.append('..')
        from ch1.user import WHO
        print(WHO)
        import json  # found as usual
        try:
            import no_such_module_anywhere
        except ModuleNotFoundError as e:
            print('missing', e.name)
    """)
    err = []
    assert run(root / "ch2", "script.py", cache=tmp_path / "cache", stderr=err).split("\n")[:2] == [
        "ch2 helper", "missing no_such_module_anywhere"]
    assert "imported from" not in err[0]
    (root / "ch2" / "helper.py").unlink()
    err = []
    assert run(root / "ch2", "script.py", cache=tmp_path / "cache", stderr=err).startswith("ch1 helper\n")
    assert f"'helper' imported from {root / 'ch1'}" in err[0]
    write(root / "ch1", "quiet.py", "import helper\n")
    before = list(sys.meta_path)
    dropin.run_script(str(root / "ch1" / "quiet.py"), volume=2)  # in this process: cleaned up after
    assert sys.meta_path == before and "helper" in sys.modules
    del sys.modules["helper"]


def test_vol2_dropout_is_the_books_unscaled_dropout_and_time_dropout_stays_inverted():
    """The book's vol. 2 ``common.layers.Dropout`` is ``x * (rand > ratio)`` in training and
    ``x * (1 - ratio)`` at test time; its ``TimeDropout`` scales the kept units by 1/(1 - ratio).
    Seed 5, ratio 0.4: ``np.random.rand(2, 3)`` is 0.222 0.871 0.207 / 0.919 0.488 0.612, so the
    mask keeps the 2nd, 4th, 5th and 6th (hand-checked against the draw)."""
    import numpy as np
    x = np.ones((2, 3), dtype=np.float32)
    keep = np.array([[0, 1, 0], [1, 1, 1]], dtype=np.float32)
    with dropin.book_imports(2):
        from common.layers import Dropout
        from common.time_layers import TimeDropout
        np.random.seed(5)
        layer = Dropout(0.4)
        out = layer.forward(x)
        assert out.dtype == np.float32 and out.shape == (2, 3)
        np.testing.assert_array_equal(out, keep)
        np.testing.assert_array_equal(layer.backward(np.full((2, 3), 2, np.float32)), 2 * keep)
        np.testing.assert_allclose(layer.forward(x, train_flg=False), np.full((2, 3), 0.6), rtol=1e-6)
        assert layer.params == [] and layer.grads == []
        np.random.seed(5)
        timed = TimeDropout(0.4)
        np.testing.assert_allclose(timed.forward(x), keep / 0.6, rtol=1e-6)
