"""coursekit.d2l against the real d2l package: same names, signatures, results and printed lines."""

import inspect
import os
import re

import pytest
import torch
from torch import nn

from coursekit import d2l as ours
from coursekit import load_data_fashion_mnist

try:
    from d2l import torch as real
except ImportError as error:  # pragma: no cover - CI installs it (see .ci/run)
    if os.environ.get("CI"):
        raise
    pytest.skip(f"the real d2l package is not installed ({error}); pip install --no-deps d2l", allow_module_level=True)

ISSUE_NAMES = [
    "load_data_fashion_mnist", "train_ch6", "train_ch5", "evaluate_accuracy_gpu", "evaluate_accuracy", "accuracy",
    "Accumulator", "Animator", "Timer", "try_gpu", "try_all_gpus", "FlattenLayer", "GlobalAvgPool2d", "Residual",
    "get_fashion_mnist_labels", "show_images", "set_figsize", "use_svg_display", "plot", "set_axes", "cpu", "gpu",
    "num_gpus", "corr2d",
]
SAME_SIGNATURE = ["train_ch6", "evaluate_accuracy_gpu", "accuracy", "show_images", "get_fashion_mnist_labels",
                  "set_figsize", "set_axes", "try_gpu", "try_all_gpus", "gpu", "cpu", "num_gpus", "corr2d",
                  "use_svg_display"]


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_every_helper_exists(name):
    assert callable(getattr(ours, name))


def parameters(function):
    return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("name", SAME_SIGNATURE)
def test_same_argument_names_and_defaults(name):
    real_params = parameters(getattr(real, name))
    our_params = parameters(getattr(ours, name))
    if name == "train_ch6":  # d2l requires a device; ours defaults to try_gpu()
        real_params[-1] = ("device", None)
    assert our_params == real_params


@pytest.mark.parametrize("name", ["plot", "Animator"])
def test_plot_helpers_take_the_same_arguments(name):
    assert [n for n, _ in parameters(getattr(ours, name))] == [n for n, _ in parameters(getattr(real, name))]


def test_loader_takes_d2l_arguments_first(fashion_root):
    assert parameters(ours.load_data_fashion_mnist)[:2] == parameters(real.load_data_fashion_mnist)
    train_iter, test_iter = ours.load_data_fashion_mnist(32, 96, fashion_root)  # d2lzh_pytorch passes root third
    X, y = next(iter(train_iter))
    assert X.shape == (32, 1, 96, 96) and y.shape == (32,) and len(test_iter) == 313


def test_accuracy_and_evaluation_agree():
    torch.manual_seed(0)
    y_hat, y = torch.randn(50, 10), torch.randint(0, 10, (50,))
    assert ours.accuracy(y_hat, y) == real.accuracy(y_hat, y)
    assert ours.accuracy(y, y) == real.accuracy(y, y) == 50.0
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 10))
    data = [(torch.randn(8, 1, 4, 4), torch.randint(0, 10, (8,))) for _ in range(3)]
    expected = real.evaluate_accuracy_gpu(net, data)
    assert ours.evaluate_accuracy_gpu(net, data) == pytest.approx(expected)
    assert ours.evaluate_accuracy(net, data) == pytest.approx(expected)  # d2l's order
    assert ours.evaluate_accuracy(data, net) == pytest.approx(expected)  # d2lzh_pytorch's order


def test_accumulator_and_timer_behave_the_same():
    for module in (ours, real):
        acc = module.Accumulator(3)
        acc.add(1, 2.5, torch.tensor(3))
        acc.add(1, 0.5, 1)
        assert acc[0] == 2.0 and acc[1] == 3.0 and acc[2] == 4.0 and acc[:2] == [2.0, 3.0]
        acc.reset()
        assert acc.data == [0.0, 0.0, 0.0]
        timer = module.Timer()
        first = timer.stop()
        timer.start()
        second = timer.stop()
        assert timer.times == [first, second] and timer.sum() == first + second
        assert timer.avg() == pytest.approx((first + second) / 2) and timer.cumsum() == [first, first + second]


def test_labels_and_small_layers():
    assert ours.get_fashion_mnist_labels(range(10)) == real.get_fashion_mnist_labels(range(10))
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.equal(ours.corr2d(X, K), real.corr2d(X, K))
    x = torch.randn(2, 3, 5, 7)
    assert ours.FlattenLayer()(x).shape == (2, 105)
    assert torch.allclose(ours.GlobalAvgPool2d()(x), x.mean(dim=(2, 3), keepdim=True))


def structure(block: nn.Module, X: torch.Tensor):
    Y = block(X)  # materialises lazy layers
    return Y.shape, [(name, tuple(p.shape)) for name, p in block.named_parameters()], \
        [(name, type(m).__name__) for name, m in block.named_modules()]


@pytest.mark.parametrize("call", [
    lambda m: m.Residual(6, use_1x1conv=True, strides=2),  # d2l 1.0
    lambda m: m.Residual(6, True, 2),
    lambda m: m.Residual(3),
])
def test_residual_matches_d2l(call):
    X = torch.randn(4, 3, 6, 6)
    torch.manual_seed(0)
    assert structure(call(ours), X) == structure(call(real), X)


def test_residual_takes_the_chinese_editions_signatures():
    X = torch.randn(4, 3, 6, 6)
    reference = structure(real.Residual(6, use_1x1conv=True, strides=2), X)
    assert structure(ours.Residual(3, 6, use_1x1conv=True, strides=2), X) == reference  # d2l-zh 2.0
    assert structure(ours.Residual(3, 6, True, stride=2), X) == reference  # d2lzh_pytorch
    assert structure(ours.Residual(in_channels=3, out_channels=6, use_1x1conv=True, stride=2), X) == reference


def final_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("training on", "loss ")) or "examples/sec" in line]


@pytest.mark.filterwarnings("ignore:Attempting to set identical low and high xlims")  # d2l's Animator, 1 epoch
def test_train_ch6_prints_what_d2l_prints(fashion_root, capsys):
    def lenet():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(),
                             nn.Linear(6 * 14 * 14, 10))

    train_iter, test_iter = load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=500, n_test=200)
    assert ours.train_ch6(lenet(), train_iter, test_iter, 1, 0.9, torch.device("cpu")) is None
    mine = final_lines(capsys.readouterr().out)
    real.train_ch6(lenet(), train_iter, test_iter, 1, 0.9, torch.device("cpu"))
    theirs = final_lines(capsys.readouterr().out)
    pattern = [r"training on cpu", r"loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}",
               r"\d+\.\d examples/sec on cpu"]
    for lines in (mine, theirs):
        assert len(lines) == 3 and all(re.fullmatch(p, line) for p, line in zip(pattern, lines)), lines


def test_train_ch5_takes_the_old_signature(fashion_root, capsys):
    train_iter, test_iter = load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=500, n_test=200)
    net = nn.Sequential(ours.FlattenLayer(), nn.Linear(784, 10))
    before = net[1].weight.detach().clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    assert ours.train_ch5(net, train_iter, test_iter, 100, optimizer, "cpu", 2) is None
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "training on cpu"
    for epoch, line in enumerate(lines[1:], start=1):
        assert re.fullmatch(rf"epoch {epoch}, loss \d\.\d{{4}}, train acc \d\.\d{{3}}, test acc \d\.\d{{3}}, "
                            r"time \d+\.\d sec", line), line
    assert len(lines) == 3
    assert not torch.equal(before, net[1].weight)  # trained, with the caller's optimizer
    assert len(optimizer.state) == 2  # Adam kept its moment estimates: it was the optimizer used
