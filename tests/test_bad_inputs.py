"""Every public function's bad inputs, with the error each gives: the table in docs/bad_inputs.md.

The table below is the source; `test_docs_table_is_current` checks that docs/bad_inputs.md shows it
(rewrite it with `python tests/test_bad_inputs.py`), and `test_bad_input` walks it: each call must
raise the listed exception with a message containing the listed words."""
import math, sys, tempfile
from pathlib import Path

import pytest, torch
from torch import nn

from mnist_from_scratch.data import read_idx, mnist_sample_path, DataDirError
from mnist_from_scratch.pixels import check_images, mean_digit, digit_paths
from mnist_from_scratch.broadcasting import mnist_distance, is_3
from mnist_from_scratch.loss import mnist_loss, batch_accuracy
from mnist_from_scratch.optim import check_lr, BasicOptim
from mnist_from_scratch.models import simple_net, check_binary_output
from mnist_from_scratch.learner import TensorBatches, Learner
from mnist_from_scratch.multiclass import cross_entropy, mean_digits

DOC = Path(__file__).resolve().parents[1]/'docs'/'bad_inputs.md'
img = lambda *s: torch.rand(*s, 28, 28)
logits, targets = torch.randn(4, 1), torch.tensor([[1.], [0.], [1.], [0.]])

def _tmp_file():
    d = Path(tempfile.mkdtemp()); (d/'not_idx').write_bytes(b'hello'); (d/'a_file').write_text(''); return d

def _bad_metric(p, t): return 1/0

# (function, bad input, call, exception, words the message must contain)
TABLE = [
    ('read_idx', 'a file that is not IDX', lambda: read_idx(_tmp_file()/'not_idx'), ValueError, 'not an IDX file'),
    ('mnist_sample_path', 'a data folder that cannot be created', lambda: mnist_sample_path(data_dir=_tmp_file()/'a_file'/'data'), DataDirError, 'FASTAI_HOME'),
    ('check_images', 'uint8 pixels (not divided by 255)', lambda: check_images(torch.zeros(2, 28, 28, dtype=torch.uint8)), TypeError, 'divide the pixels by 255'),
    ('check_images', 'flattened images [N,784]', lambda: check_images(torch.rand(2, 784)), ValueError, 'flattened'),
    ('check_images', 'pixels 0..255 as floats', lambda: check_images(torch.rand(2, 28, 28)*255), ValueError, 'divide by 255'),
    ('check_images', 'NaN pixels', lambda: check_images(torch.full((28, 28), math.nan)), ValueError, '[0,1]'),
    ('check_images', 'a list instead of a tensor', lambda: check_images([[0.]*28]*28), TypeError, 'torch.Tensor'),
    ('mean_digit', 'an empty stack [0,28,28]', lambda: mean_digit(img(0)), ValueError, 'empty'),
    ('mean_digit', 'one image [28,28] instead of a stack', lambda: mean_digit(img()), ValueError, '[N,28,28]'),
    ('digit_paths', 'a folder without PNGs', lambda: digit_paths(_tmp_file()), ValueError, 'PNG'),
    ('mnist_distance', 'stacks that do not broadcast', lambda: mnist_distance(img(1010), img(1028)), ValueError, 'do not broadcast'),
    ('mnist_distance', 'uint8 images', lambda: mnist_distance(torch.zeros(28, 28, dtype=torch.uint8), img()), TypeError, '255'),
    ('is_3', 'ideal digits of different shapes (arguments swapped)', lambda: is_3(img(5), img(), img(5)), ValueError, 'same shape'),
    ('mnist_loss', 'predictions [N,1], targets [N]', lambda: mnist_loss(logits, targets[:, 0]), ValueError, '[4, 1]'),
    ('mnist_loss', 'predictions [N], targets [N,1]', lambda: mnist_loss(logits[:, 0], targets), ValueError, '[4, 1]'),
    ('mnist_loss', 'targets that are digits, not 0/1', lambda: mnist_loss(logits, targets*7), ValueError, '1 (a 3) or 0 (a 7)'),
    ('mnist_loss', 'an empty batch', lambda: mnist_loss(torch.empty(0, 1), torch.empty(0, 1)), ValueError, 'empty'),
    ('mnist_loss', 'probabilities where logits belong', lambda: mnist_loss(torch.tensor([[.95], [.02], [.9]]), targets[:3]), UserWarning, 'logits'),
    ('batch_accuracy', 'predictions [N], targets [N,1]', lambda: batch_accuracy(logits[:, 0], targets), ValueError, 'shape'),
    ('check_lr', 'a negative learning rate', lambda: check_lr(-0.1), ValueError, 'positive'),
    ('check_lr', 'a string', lambda: check_lr('0.1'), TypeError, 'positive number'),
    ('BasicOptim', 'no parameters', lambda: BasicOptim([], 0.1), ValueError, 'no parameters'),
    ('simple_net', 'zero hidden units', lambda: simple_net(n_hidden=0), ValueError, 'positive integer'),
    ('check_binary_output', 'a model with 10 outputs for the binary loss', lambda: check_binary_output(nn.Linear(784, 10), torch.rand(3, 784)), ValueError, '[N, 1]'),
    ('TensorBatches', 'x and y of different lengths', lambda: TensorBatches(torch.rand(10, 2), torch.rand(9)), ValueError, 'same length'),
    ('TensorBatches', 'a batch size of 0', lambda: TensorBatches(torch.rand(10, 2), torch.rand(10), bs=0), ValueError, 'positive integer'),
    ('Learner', 'a function instead of an nn.Module', lambda: Learner((list(), list()), lambda x: x, mnist_loss), TypeError, 'nn.Module'),
    ('Learner.fit', 'a metric that raises', lambda: Learner(([(torch.rand(4, 3), torch.rand(4, 1).round())],)*2, nn.Linear(3, 1), mnist_loss,
        metrics=_bad_metric, cbs=[]).fit(1), RuntimeError, "metric '_bad_metric' failed"),
    ('cross_entropy', 'labels [N,1] instead of [N]', lambda: cross_entropy(torch.randn(4, 10), torch.zeros(4, 1, dtype=torch.long)), ValueError, 'squeeze(1)'),
    ('cross_entropy', 'float labels', lambda: cross_entropy(torch.randn(4, 10), torch.zeros(4)), ValueError, 'int64'),
    ('cross_entropy', 'labels out of range', lambda: cross_entropy(torch.randn(4, 10), torch.tensor([0, 1, 2, 10])), ValueError, '0 to 9'),
    ('cross_entropy', 'logits of one dimension', lambda: cross_entropy(torch.randn(10), torch.tensor([1])), ValueError, '[N, C]'),
    ('mean_digits', 'a class with no images', lambda: mean_digits(img(3), torch.tensor([0, 1, 2])), ValueError, 'no images of class'),
]

def render() -> str:
    "The table as Markdown."
    lines = ['<!-- Generated from tests/test_bad_inputs.py (python tests/test_bad_inputs.py); the test suite checks it. -->',
             '# Bad inputs and the errors they get', '',
             'Every row is checked by `tests/test_bad_inputs.py`: the call must raise the error, with a message containing the words.',
             'NaN *logits* are not refused: they propagate to a NaN loss, as in PyTorch (checking every batch would stall a GPU).', '',
             '| function | bad input | error | message contains |', '|---|---|---|---|']
    lines += [f'| `{f}` | {what} | `{exc.__name__}` | `{words}` |' for f, what, _, exc, words in TABLE]
    return '\n'.join(lines) + '\n'

@pytest.mark.parametrize('row', TABLE, ids=[f'{r[0]}: {r[1]}' for r in TABLE])
def test_bad_input(row):
    f, what, call, exc, words = row
    if issubclass(exc, Warning):
        with pytest.warns(exc, match=None) as rec: call()
        assert any(words in str(w.message) for w in rec), [str(w.message) for w in rec]
    else:
        with pytest.raises(exc) as e: call()
        assert words in str(e.value), f"{f} with {what}: message {str(e.value)!r} lacks {words!r}"

def test_docs_table_is_current():
    assert DOC.exists() and DOC.read_text() == render(), "docs/bad_inputs.md is stale: run `python tests/test_bad_inputs.py`"

if __name__ == '__main__': DOC.parent.mkdir(exist_ok=True); DOC.write_text(render()); print(f'wrote {DOC}')
