"""coursekit.d2l's English-edition class API and tensor shortcuts against the real d2l 1.0.3.

The models below are written the way the book writes them (a ``d2l.Classifier``
subclass with ``save_hyperparameters`` and lazy layers), in this file's own words.
"""

import importlib.util
import inspect
import os
from pathlib import Path

import pytest
import torch
from torch import nn

from coursekit import d2l as ours

try:
    from d2l import torch as real
except ImportError as error:  # pragma: no cover - CI installs it (see .ci/run)
    if os.environ.get("CI"):
        raise
    pytest.skip(f"the real d2l package is not installed ({error}); pip install --no-deps d2l", allow_module_level=True)

SHORTCUTS = ["ones_like", "ones", "zeros_like", "zeros", "tensor", "arange", "meshgrid", "sin", "sinh", "cos", "cosh",
             "tanh", "linspace", "exp", "log", "normal", "rand", "randn", "matmul", "int32", "int64", "float32",
             "concat", "stack", "abs", "eye", "sigmoid", "batch_matmul", "numpy", "size", "reshape", "to",
             "reduce_sum", "argmax", "astype", "transpose", "reduce_mean", "expand_dims", "swapaxes", "repeat"]
CLASS_API = {
    "HyperParameters": ["save_hyperparameters"],
    "ProgressBoard": ["__init__", "draw"],
    "Module": ["__init__", "loss", "forward", "plot", "training_step", "validation_step", "configure_optimizers",
               "apply_init"],
    "Classifier": ["validation_step", "accuracy", "loss", "layer_summary"],
    "DataModule": ["__init__", "get_dataloader", "train_dataloader", "val_dataloader", "get_tensorloader"],
    "FashionMNIST": ["text_labels", "get_dataloader", "visualize"],
    "Trainer": ["__init__", "prepare_data", "prepare_model", "fit", "fit_epoch", "prepare_batch", "clip_gradients"],
    "LeNet": ["__init__"],
    "ResNeXtBlock": ["__init__", "forward"],
}


def test_every_shortcut_of_the_books_is_the_same_operation():
    X = torch.arange(12.0).reshape(3, 4)
    for name in SHORTCUTS:
        assert hasattr(ours, name), name
    assert ours.size(X) == real.size(X) == 12
    for name, args in [("reshape", (X, (4, 3))), ("reduce_sum", (X,)), ("reduce_mean", (X, 0)), ("transpose", (X,)),
                       ("argmax", (X, 1)), ("expand_dims", (X, 0)), ("swapaxes", (X, 0, 1)), ("repeat", (X, 2, 1)),
                       ("astype", (X, torch.int64)), ("to", (X, torch.float64)), ("concat", ((X, X), 1)),
                       ("stack", ((X, X),)), ("matmul", (X, X.T)), ("abs", (-X,))]:
        assert torch.equal(getattr(ours, name)(*args), getattr(real, name)(*args)), name
    assert (ours.numpy(X) == real.numpy(X)).all()
    assert ours.float32 is real.float32 and ours.int64 is real.int64


@pytest.mark.parametrize("name", sorted(CLASS_API))
def test_the_class_api_has_the_books_signatures(name):
    mine, theirs = getattr(ours, name), getattr(real, name)
    for method in CLASS_API[name]:
        a = inspect.signature(getattr(mine, method)).parameters
        b = inspect.signature(getattr(theirs, method)).parameters
        # Keyword-only extras (FashionMNIST's n_train) are allowed; the book's own parameters must match.
        assert [p for p in a if a[p].kind != inspect.Parameter.KEYWORD_ONLY] == list(b), (name, method)
        for p in b:
            assert a[p].default == b[p].default, (name, method, p)


@pytest.mark.parametrize("function", ["add_to_class", "init_cnn"])
def test_the_functions_of_the_class_api_take_the_books_arguments(function):
    mine = inspect.signature(getattr(ours, function)).parameters
    assert list(mine) == list(inspect.signature(getattr(real, function)).parameters)


def book_alexnet(d2l):
    """Section 8.1's AlexNet in the book's style, as the benchmark trains it (benchmarks/d2l_class_api.py)."""
    spec = importlib.util.spec_from_file_location(
        "d2l_class_api", Path(__file__).parent.parent / "benchmarks" / "d2l_class_api.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark.alexnet(d2l)


def test_layer_summary_prints_what_the_book_prints(capsys):
    book_alexnet(ours).layer_summary((1, 1, 224, 224))
    mine = capsys.readouterr().out
    book_alexnet(real).layer_summary((1, 1, 224, 224))
    theirs = capsys.readouterr().out
    assert mine == theirs and "Linear output shape:\t torch.Size([1, 10])" in mine


def test_save_hyperparameters_and_add_to_class_work_as_in_the_book():
    for d2l in (ours, real):
        class Stage(d2l.HyperParameters):
            def __init__(self, width, depth=2, _private=0):
                self.save_hyperparameters(ignore=["depth"])

        stage = Stage(8)
        assert stage.hparams == {"width": 8} and stage.width == 8 and not hasattr(stage, "depth")

        @d2l.add_to_class(Stage)
        def doubled(self):
            return 2 * self.width

        assert stage.doubled() == 16


def test_resnext_block_is_the_books_block():
    X = torch.randn(4, 32, 16, 16)
    for args in [(32, 16, 1), (64, 16, 0.5, True, 2)]:
        torch.manual_seed(0)
        mine = ours.ResNeXtBlock(*args)
        torch.manual_seed(0)
        theirs = real.ResNeXtBlock(*args)
        assert mine(X).shape == theirs(X).shape
        assert [(n, p.shape) for n, p in mine.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
        assert mine.conv2.groups == theirs.conv2.groups


def test_fashion_mnist_splits_index_as_in_the_book(fashion_root):
    data = ours.FashionMNIST(batch_size=32, resize=(32, 32))
    assert (len(data.train), len(data.val)) == (60_000, 10_000)
    X, y = data.train[0]
    assert X.shape == (1, 32, 32) and isinstance(y, int) and 0 <= X.min() <= X.max() <= 1
    assert data.text_labels([0, 9]) == ["t-shirt", "ankle boot"]
    X, y = next(iter(data.train_dataloader()))
    assert X.shape == (32, 1, 32, 32) and y.shape == (32,)
    with pytest.raises(ValueError, match="n_train must be an int from 1 to 60,000"):
        ours.FashionMNIST(n_train=0)


def small_relu_net(d2l):
    class Net(d2l.Classifier):
        def __init__(self, lr=0.1):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.LazyConv2d(8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                     nn.LazyLinear(10))
            # As the book does: this makes `d2l` a free variable, which save_hyperparameters saves too.
            self.net.apply(d2l.init_cnn)

    return Net(lr=0.1)


def test_trainer_fits_a_book_style_classifier_and_plots_the_books_series(fashion_root):
    torch.manual_seed(0)
    model = small_relu_net(ours)
    data = ours.FashionMNIST(batch_size=128, n_train=2048, n_test=512)
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], ours.init_cnn)
    trainer = ours.Trainer(max_epochs=2, num_gpus=1)
    trainer.fit(model, data)
    series = model.board.data
    assert list(series) == ["train_loss", "val_loss", "val_acc"]
    # 16 batches per epoch, plotted twice an epoch; validation once an epoch: the x positions of d2l's board.
    assert [p.x for p in series["train_loss"]] == pytest.approx([0.21875, 0.71875, 1.21875, 1.71875])
    assert [p.x for p in series["val_acc"]] == [1.0, 2.0]
    assert series["train_loss"][-1].y < series["train_loss"][0].y
    assert series["val_acc"][-1].y > 0.5  # chance is 0.1
    assert model.d2l is ours  # saved, as the real d2l saves it, and no obstacle to measuring the fast path
    assert trainer.fast_path is not None and not trainer.interrupted


def test_a_model_that_is_not_a_classifier_trains_in_fp32(fashion_root):
    class Regression(ours.Module):
        def __init__(self, lr=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(1))

        def loss(self, y_hat, y):
            return ((y_hat.squeeze(1) - y.float()) ** 2).mean()

    model = Regression()
    trainer = ours.Trainer(max_epochs=1)
    trainer.fit(model, ours.FashionMNIST(batch_size=64, n_train=256, n_test=64))
    assert trainer.fast_path is None and trainer.precision is None
    assert list(model.board.data) == ["train_loss", "val_loss"]


def test_ctrl_c_keeps_what_was_trained(fashion_root, capsys):
    class Interrupting(ours.Classifier):
        def __init__(self, lr=0.1):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(10))
            self.steps = 0

        def training_step(self, batch):
            self.steps += 1
            if self.steps == 5:
                raise KeyboardInterrupt
            return super().training_step(batch)

    model = Interrupting()
    trainer = ours.Trainer(max_epochs=3)
    trainer.fit(model, ours.FashionMNIST(batch_size=64, n_train=512, n_test=64))
    assert trainer.interrupted and model.steps == 5 and trainer.train_batch_idx == 4
    assert "Interrupted in epoch 1: the model keeps what it learned so far." in capsys.readouterr().out


def test_the_chinese_editions_own_loops_run_on_the_shortcuts(fashion_root):
    """d2l-zh's LeNet section defines its own evaluation with d2l.Accumulator, d2l.accuracy and d2l.size."""
    import coursekit as ck

    def evaluate_accuracy_gpu(net, data_iter, device=None):  # in the style of d2l-zh 2.0, section 6.6
        net.eval()
        metric = ours.Accumulator(2)
        with torch.no_grad():
            for X, y in data_iter:
                metric.add(ours.accuracy(net(X), y), ours.size(y))
        return metric[0] / metric[1]

    _, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=200, n_test=300)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    expected = ck.evaluate_accuracy(net, test_iter)
    assert evaluate_accuracy_gpu(net, test_iter) == pytest.approx(expected)
    X = ours.reshape(ours.arange(16, dtype=ours.float32), (1, 1, 4, 4))
    K = ours.tensor([[1.0, -1.0]])
    assert ours.reduce_sum(ours.corr2d(X[0, 0], K)) == real.reduce_sum(real.corr2d(X[0, 0], K))
