"""Sanity checks before training (initial loss, overfitting one batch) and the learning-rate range test."""

import copy
import math

import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit.sanity import LRRangeTest


def fashion_batch(n=32):
    train, _ = ck.load_data_fashion_mnist(n, n_train=n, n_test=n, seed=0)
    return next(iter(train))


def test_an_untrained_classifier_starts_near_ln_10_and_a_mis_scaled_one_does_not():
    batch = fashion_batch()
    torch.manual_seed(0)
    loss, expected = ck.initial_loss(ck.models.resnet18_small(width=8), batch)
    assert expected == pytest.approx(math.log(10))
    assert abs(loss - expected) < 0.5
    loud = nn.Sequential(ck.models.resnet18_small(width=8), nn.Linear(10, 10))
    with torch.no_grad():
        loud[1].weight.copy_(torch.eye(10) * 1000)
    assert ck.initial_loss(loud, batch)[0] > 2 * expected


def test_a_working_network_overfits_one_batch_and_the_given_one_is_untouched():
    batch = fashion_batch()
    torch.manual_seed(0)
    net = ck.models.resnet18_small(width=8)
    before = copy.deepcopy(net.state_dict())
    accuracies = ck.overfit_one_batch(net, batch, steps=40, lr=0.01)
    assert len(accuracies) == 40 and accuracies[-1] == 1.0
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_a_network_that_cannot_see_its_input_does_not_overfit_one_batch():
    batch = fashion_batch()
    blind = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        blind[1].weight.zero_()
    blind[1].weight.requires_grad_(False)  # the bug: a frozen layer
    accuracies = ck.overfit_one_batch(blind, batch, steps=40)
    share = torch.bincount(batch[1]).max().item() / len(batch[1])
    assert accuracies[-1] <= share + 1e-6
    with pytest.raises(ValueError, match="steps"):
        ck.overfit_one_batch(blind, batch, steps=0)


def least_squares(n=256, steps=200):
    """Full-batch linear regression whose loss has curvature L along one axis: gradient descent converges
    for lr < 2 / L and diverges above it."""
    g = torch.Generator().manual_seed(0)
    scales = torch.tensor([3.0, 1.0, 0.5, 0.2])
    X = torch.randn(n, 4, generator=g) * scales
    y = X @ torch.tensor([1.0, -2.0, 0.5, 3.0])
    L = 2 * torch.linalg.eigvalsh(X.T @ X / n).max().item()  # Hessian of mean((Xw - y)^2)
    return [(X, y)] * steps, L


def regression_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 1, bias=False), nn.Flatten(0))


def test_the_range_test_suggests_an_lr_in_the_known_good_region_of_least_squares():
    data, L = least_squares()
    net = regression_net()
    before = copy.deepcopy(net.state_dict())
    result = ck.lr_range_test(net, data, start_lr=1e-4 / L, end_lr=100 / L, num_steps=200, momentum=0.0,
                              loss_fn=nn.MSELoss(), smoothing=0.9)
    assert isinstance(result, LRRangeTest)
    assert result.diverged, "the sweep passes 2/L, where gradient descent diverges"
    assert max(result.lrs) < 10 / L
    assert 0.05 / L < result.suggestion < 2 / L
    assert 0.05 / L < result.steepest_lr < 2 / L
    assert result.lrs == sorted(result.lrs) and len(result.lrs) == len(result.losses)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_the_range_test_suggestion_moves_with_the_curvature():
    data, L = least_squares()
    stretched = [(4 * X, 4 * y) for X, y in data]  # 16 times the curvature: 16 times smaller rates
    kwargs = dict(num_steps=200, momentum=0.0, loss_fn=nn.MSELoss(), smoothing=0.9)
    plain = ck.lr_range_test(regression_net(), data, start_lr=1e-6, end_lr=10.0, **kwargs).suggestion
    steep = ck.lr_range_test(regression_net(), stretched, start_lr=1e-6, end_lr=10.0, **kwargs).suggestion
    assert 4 < plain / steep < 64


def test_the_range_test_plots_loss_against_lr():
    import matplotlib

    matplotlib.use("Agg")
    data, L = least_squares(steps=50)
    result = ck.lr_range_test(regression_net(), data, start_lr=1e-3 / L, end_lr=10 / L, num_steps=50,
                              loss_fn=nn.MSELoss())
    ax = result.plot()
    assert ax.get_xscale() == "log" and len(ax.lines) == 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(start_lr=0.0, end_lr=1.0), "positive"),
    (dict(start_lr=-1e-3, end_lr=1.0), "positive"),
    (dict(start_lr=1e-3, end_lr=float("inf")), "positive"),
    (dict(start_lr=1.0, end_lr=1e-3), "upside down"),
    (dict(start_lr=0.1, end_lr=0.1), "upside down"),
    (dict(num_steps=1), "num_steps"),
    (dict(num_steps=500), "fewer than the num_steps=500"),
])
def test_the_range_test_refuses_bad_input(kwargs, message):
    data, _ = least_squares(steps=100)
    with pytest.raises(ValueError, match=message):
        ck.lr_range_test(regression_net(), data, loss_fn=nn.MSELoss(), **kwargs)


def test_the_range_test_refuses_a_loader_too_short_for_the_steps():
    train, _ = ck.load_data_fashion_mnist(64, n_train=640, n_test=64)
    with pytest.raises(ValueError, match="10 batches, fewer than the num_steps=100"):
        ck.lr_range_test(ck.models.resnet18_small(width=8), train, num_steps=100)
