"""coursekit.models.batch_norm: batch normalization from scratch equals PyTorch's."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from coursekit.models import BatchNorm, batch_norm, bn_lenet, bn_lenet_scratch


@pytest.mark.parametrize("num_dims", [2, 4])
def test_scratch_batch_norm_equals_torch(num_dims):
    torch.manual_seed(0)
    ours = BatchNorm(6, num_dims=num_dims)
    ref = nn.BatchNorm1d(6) if num_dims == 2 else nn.BatchNorm2d(6)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.5)
    opt_ref = torch.optim.SGD(ref.parameters(), lr=0.5)
    shape = (8, 6) if num_dims == 2 else (8, 6, 5, 4)
    target = torch.randn(shape)
    for _ in range(4):
        x = (torch.randn(shape) * 3 + 2).requires_grad_()
        x_ref = x.detach().clone().requires_grad_()
        y, y_ref = ours(x), ref(x_ref)
        torch.testing.assert_close(y, y_ref)
        for model, out, opt in ((ours, y, opt_ours), (ref, y_ref, opt_ref)):
            opt.zero_grad()
            F.mse_loss(out, target).backward()
            opt.step()
        torch.testing.assert_close(x.grad, x_ref.grad)
        torch.testing.assert_close(ours.gamma.flatten(), ref.weight)
        torch.testing.assert_close(ours.beta.flatten(), ref.bias)
        torch.testing.assert_close(ours.moving_mean.flatten(), ref.running_mean)
        torch.testing.assert_close(ours.moving_var.flatten(), ref.running_var)
    x = torch.randn(shape) * 3 + 2
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.moving_var.flatten(), ref.running_var)  # eval leaves stats alone


def test_batch_norm_function_in_eval_mode_uses_and_returns_the_moving_stats():
    x = torch.randn(4, 3)
    gamma, beta = torch.full((1, 3), 2.0), torch.full((1, 3), 0.5)
    mean, var = torch.randn(1, 3), torch.rand(1, 3) + 0.5
    y, new_mean, new_var = batch_norm(x, gamma, beta, mean, var, training=False, eps=1e-5)
    torch.testing.assert_close(y, 2.0 * (x - mean) / torch.sqrt(var + 1e-5) + 0.5)
    assert new_mean is mean and new_var is var


def test_batch_norm_stats_are_buffers():
    bn = BatchNorm(3, num_dims=4)
    bn(torch.randn(4, 3, 2, 2))
    state = bn.state_dict()
    assert set(state) == {"gamma", "beta", "moving_mean", "moving_var"}
    fresh = BatchNorm(3, num_dims=4)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.moving_var, bn.moving_var)
    assert bn.to(torch.float64).moving_mean.dtype == torch.float64  # .to() reaches the buffers
    if torch.cuda.is_available():
        assert bn.to("cuda").moving_var.is_cuda


def test_batch_norm_rejects_inputs_it_cannot_normalise():
    with pytest.raises(ValueError, match="num_dims must be 2"):
        BatchNorm(3, num_dims=3)
    with pytest.raises(ValueError, match=r"num_dims=4\) expects a 4-D input"):
        BatchNorm(3, num_dims=4)(torch.randn(5, 3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        BatchNorm(3, num_dims=2)(torch.randn(1, 3))
    assert BatchNorm(3, num_dims=2).eval()(torch.randn(1, 3)).shape == (1, 3)


def test_the_two_bn_lenets_are_the_same_network():
    torch.manual_seed(0)
    concise, scratch = bn_lenet(), bn_lenet_scratch()
    for a, b in zip(concise, scratch):
        if isinstance(a, nn.modules.batchnorm._BatchNorm):
            b.gamma.data.copy_(a.weight.view_as(b.gamma))
            b.beta.data.copy_(a.bias.view_as(b.beta))
        else:
            b.load_state_dict(a.state_dict())
    for _ in range(2):
        x = torch.rand(8, 1, 28, 28)
        torch.testing.assert_close(scratch(x), concise(x))
    x = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(scratch.eval()(x), concise.eval()(x))


def test_traced_scratch_batch_norm_computes_the_same():
    net = bn_lenet_scratch()
    traced = torch.fx.symbolic_trace(copy.deepcopy(net))
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(traced(x), net(x))
    torch.testing.assert_close(traced.get_submodule("1").moving_mean, net[1].moving_mean)
