"""coursekit.models: the course's networks are the real architectures.

Every expected number here comes from torchvision, from a paper's layer table
transcribed below, or from a closed-form count; none is copied from the
models' own output. Large ImageNet networks are built on the ``meta`` device,
which propagates shapes through every layer without allocating or computing,
so counting and shape checks cost milliseconds.
"""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
import torch.fx
import torch.nn.functional as F
import torchvision
from torch import nn

from coursekit.data import load_data_fashion_mnist
from coursekit.models import (
    MODELS,
    BasicBlock,
    BatchNorm,
    Bottleneck,
    DenseBlock,
    GoogLeNetOutputs,
    Inception,
    Residual,
    alexnet,
    alexnet_imagenet,
    batch_norm,
    bn_lenet,
    bn_lenet_scratch,
    densenet,
    get_model,
    googlenet_imagenet,
    googlenet_loss,
    lenet,
    list_models,
    nin_block,
    resnet18,
    resnet18_d2l,
    transition_block,
    vgg_block,
)

# The image side each d2l-form network is trained at in d2l's "Modern CNNs" chapter.
D2L_SIZES = {
    "lenet": 28, "lenet_modern": 28, "bn_lenet_scratch": 28, "bn_lenet": 28,
    "alexnet": 224, "vgg11_narrow": 224, "nin": 224,
    "googlenet": 96, "resnet18_d2l": 96, "densenet": 96,
}
# ImageNet forms with torchvision's design, and those where torchvision departs from the paper.
SAME_AS_TORCHVISION = ["vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50",
                       "resnet101", "resnet152", "densenet121"]
IMAGENET = ["alexnet_imagenet", "googlenet_imagenet", *SAME_AS_TORCHVISION]

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run this module on one CPU thread.

    The batches here are tiny, so OpenMP's thread synchronisation costs more
    than it saves, and on a loaded machine (shared CI runners) it is many
    times slower: on a busy 2-core machine GoogLeNet's training step took 6 s
    on two threads and 0.3 s on one.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


# --- the table of models ------------------------------------------------------------------------


def test_models_table_lists_every_model():
    assert set(MODELS) == set(D2L_SIZES) | set(IMAGENET)
    assert list_models() == list(MODELS)


def test_get_model_builds_with_keywords_and_rejects_unknown_names():
    net = get_model("lenet", in_channels=3, num_classes=5)
    assert net.input_size == (3, 28, 28)
    assert net(torch.rand(2, 3, 28, 28)).shape == (2, 5)
    with pytest.raises(ValueError, match="Did you mean 'resnet18'") as info:
        get_model("resnet-18")
    assert all(name in str(info.value) for name in MODELS)


# --- output shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(D2L_SIZES))
def test_d2l_form_output_shapes(name, device):
    size = D2L_SIZES[name]
    net = get_model(name).to(device).eval()
    assert net.input_size == (1, size, size)
    with torch.no_grad():
        assert net(torch.rand(2, 1, size, size, device=device)).shape == (2, 10)
    with torch.device("meta"):  # every constructor takes in_channels and num_classes
        other = get_model(name, in_channels=3, num_classes=7).eval()
        assert other(torch.rand(1, 3, size, size)).shape == (1, 7)


@pytest.mark.parametrize("device", ["meta", *DEVICES[1:]])
@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_form_output_shapes(name, device):
    with torch.device(device):
        net = get_model(name).eval()
        assert net.input_size == (3, 224, 224)
        with torch.no_grad():
            assert net(torch.rand(2, 3, 224, 224)).shape == (2, 1000)
            other = get_model(name, in_channels=1, num_classes=10).eval()
            assert other(torch.rand(1, 1, 224, 224)).shape == (1, 10)


def test_imagenet_forms_compute_on_cpu():
    """A real forward pass through an ImageNet form (the others run on ``meta`` and in the GoogLeNet test)."""
    torch.manual_seed(0)
    with torch.no_grad():
        assert torch.isfinite(resnet18().eval()(torch.rand(1, 3, 224, 224))).all()


@pytest.mark.parametrize("block, shape_in, shape_out", [
    (lambda: vgg_block(2, 3, 16), (2, 3, 32, 32), (2, 16, 16, 16)),
    (lambda: nin_block(3, 16, 11, 4, 0), (2, 3, 67, 67), (2, 16, 15, 15)),
    (lambda: Inception(8, 4, (4, 6), (2, 3), 5), (2, 8, 9, 9), (2, 4 + 6 + 3 + 5, 9, 9)),
    (lambda: Residual(3, 6, use_1x1conv=True, strides=2), (2, 3, 9, 9), (2, 6, 5, 5)),
    (lambda: BasicBlock(8, 16, stride=2), (2, 8, 9, 9), (2, 16, 5, 5)),
    (lambda: Bottleneck(8, 4, stride=2), (2, 8, 9, 9), (2, 16, 5, 5)),
    (lambda: DenseBlock(3, 5, 4), (2, 5, 8, 8), (2, 5 + 3 * 4, 8, 8)),
    (lambda: DenseBlock(3, 5, 4, bn_size=4), (2, 5, 8, 8), (2, 5 + 3 * 4, 8, 8)),
    (lambda: transition_block(8, 4), (2, 8, 9, 9), (2, 4, 4, 4)),
])
def test_blocks_have_the_documented_shapes(block, shape_in, shape_out):
    module = block()
    assert module(torch.rand(shape_in)).shape == shape_out
    if hasattr(module, "out_channels"):
        assert module.out_channels == shape_out[1]


# --- parameter counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAME_AS_TORCHVISION)
def test_parameters_equal_torchvision(name):
    with torch.device("meta"):
        ours = get_model(name)
        theirs = getattr(torchvision.models, name)(weights=None)
    assert count(ours) == count(theirs)
    # Same multiset of tensor shapes: the same layers, not just the same total.
    assert sorted(p.shape for p in ours.parameters()) == sorted(p.shape for p in theirs.parameters())
    assert sorted(b.shape for b in ours.buffers()) == sorted(b.shape for b in theirs.buffers())


def _alexnet_count(convs, fcs) -> int:
    """Parameters of a plain conv stack and fully connected head, biases included."""
    return (sum(k * k * c_in * c_out + c_out for c_in, c_out, k in convs)
            + sum(n_in * n_out + n_out for n_in, n_out in fcs))


def test_alexnet_imagenet_has_the_papers_parameters():
    """The paper's single-tower AlexNet, counted from its layer table.

    torchvision's ``alexnet`` is the 64-192-384-256-256 network of "One weird
    trick" (2014) and is counted from that table, to show that the two differ
    only by design.
    """
    side = conv_out(224, 11, stride=4, padding=2)  # 55, as in the paper
    side = conv_out(conv_out(side, 3, 2), 3, 2)  # two overlapping 3x3/2 pools (conv2 keeps the size)
    side = conv_out(side, 3, 2)  # pool after conv5: 6
    paper = _alexnet_count(
        [(3, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)],
        [(256 * side * side, 4096), (4096, 4096), (4096, 1000)])
    with torch.device("meta"):
        assert count(alexnet_imagenet()) == paper
        weird_trick = _alexnet_count(
            [(3, 64, 11), (64, 192, 5), (192, 384, 3), (384, 256, 3), (256, 256, 3)],
            [(256 * 6 * 6, 4096), (4096, 4096), (4096, 1000)])
        assert count(torchvision.models.alexnet(weights=None)) == weird_trick != paper


def test_d2l_alexnet_has_d2l_parameters():
    side = conv_out(224, 11, stride=4, padding=1)  # 54
    side = conv_out(conv_out(conv_out(side, 3, 2), 3, 2), 3, 2)  # 5
    expected = _alexnet_count(
        [(1, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)],
        [(256 * side * side, 4096), (4096, 4096), (4096, 10)])
    assert count(alexnet()) == expected


# GoogLeNet paper, Table 1: output size, then #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
GOOGLENET_TABLE = {
    "inception3a": ((28, 256), (64, 96, 128, 16, 32, 32)),
    "inception3b": ((28, 480), (128, 128, 192, 32, 96, 64)),
    "inception4a": ((14, 512), (192, 96, 208, 16, 48, 64)),
    "inception4b": ((14, 512), (160, 112, 224, 24, 64, 64)),
    "inception4c": ((14, 512), (128, 128, 256, 24, 64, 64)),
    "inception4d": ((14, 528), (112, 144, 288, 32, 64, 64)),
    "inception4e": ((14, 832), (256, 160, 320, 32, 128, 128)),
    "inception5a": ((7, 832), (256, 160, 320, 32, 128, 128)),
    "inception5b": ((7, 1024), (384, 192, 384, 48, 128, 128)),
}


def _inception_weights(c_in: int, row: tuple[int, ...]) -> int:
    n1, r3, n3, r5, n5, proj = row
    return c_in * n1 + c_in * r3 + 9 * r3 * n3 + c_in * r5 + 25 * r5 * n5 + c_in * proj


def test_googlenet_imagenet_follows_the_papers_table():
    """Every Inception block against the paper's Table 1 (Szegedy et al., 2014).

    Weights are counted from the table's filter columns (the "params" column
    is not used: it is rounded inconsistently, e.g. 463K for 4c whose filters
    hold 509,440 weights). torchvision's ``googlenet`` would fail this test:
    its "5x5" branch is a 3x3 convolution, and it adds batch norm.
    """
    with torch.device("meta"):
        net = googlenet_imagenet().eval()
        shapes = {}
        for name in GOOGLENET_TABLE:
            getattr(net, name).register_forward_hook(
                lambda module, args, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
        net(torch.rand(1, 3, 224, 224))
    c_in = 192  # output of the stem's 3x3 convolution, Table 1
    expected_weights = 7 * 7 * 3 * 64 + 64 * 64 + 3 * 3 * 64 * 192 + 1024 * 1000  # stem + linear
    for name, ((side, depth), row) in GOOGLENET_TABLE.items():
        block = getattr(net, name)
        weights = sum(p.numel() for p in block.parameters() if p.dim() > 1)
        assert weights == _inception_weights(c_in, row), name
        assert shapes[name] == (1, depth, side, side), name
        expected_weights += weights
        c_in = depth
    main = [p for n, p in net.named_parameters() if not n.startswith("aux")]
    assert sum(p.numel() for p in main if p.dim() > 1) == expected_weights
    # Auxiliary classifiers (Section 5): 1x1 conv to 128, FC 1024 on 4x4x128, FC 1000; with biases.
    for aux, c_in in ((net.aux1, 512), (net.aux2, 528)):
        assert count(aux) == (c_in * 128 + 128) + (4 * 4 * 128 * 1024 + 1024) + (1024 * 1000 + 1000)
    with torch.device("meta"):
        tv = torchvision.models.googlenet(weights=None, init_weights=False)
    assert tv.inception3a.branch3[1].conv.kernel_size == (3, 3)  # the departure documented above
    assert net.inception3a.p3_2.kernel_size == (5, 5)


def test_googlenet_imagenet_auxiliary_outputs_and_loss():
    torch.manual_seed(0)
    net = googlenet_imagenet(num_classes=5)
    x, y = torch.rand(1, 3, 224, 224), torch.tensor([3])
    out = net.train()(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [o.shape for o in out] == [(1, 5)] * 3
    expected = (F.cross_entropy(out.main, y)
                + 0.3 * (F.cross_entropy(out.aux1, y) + F.cross_entropy(out.aux2, y)))
    torch.testing.assert_close(googlenet_loss(out, y), expected)
    torch.testing.assert_close(googlenet_loss(out.main, y), F.cross_entropy(out.main, y))
    with torch.device("meta"):
        full, plain = googlenet_imagenet(), googlenet_imagenet(aux_logits=False).train()
        traced = torch.fx.symbolic_trace(full.train())
        assert isinstance(traced(torch.rand(1, 3, 224, 224)), GoogLeNetOutputs)
        assert full.eval()(torch.rand(1, 3, 224, 224)).shape == (1, 1000)  # eval: main logits only
        assert plain(torch.rand(1, 3, 224, 224)).shape == (1, 1000)
    assert count(plain) == count(full) - count(full.aux1) - count(full.aux2)
    assert plain.aux1 is None and plain.aux2 is None


# --- batch normalization ------------------------------------------------------------------------


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


# --- ResNet details -----------------------------------------------------------------------------


@pytest.mark.parametrize("block", [lambda: BasicBlock(16, 16, zero_init_residual=True),
                                   lambda: Bottleneck(16, 4, zero_init_residual=True)])
def test_zero_init_residual_blocks_start_as_identity(block):
    module = block()
    x = torch.randn(4, 16, 5, 5)
    torch.testing.assert_close(module(x), F.relu(x))


def test_zero_init_residual_reaches_every_block():
    assert all(b.bn2.weight.eq(0).all() for b in resnet18(zero_init_residual=True).modules()
               if isinstance(b, BasicBlock))
    assert not any(b.bn2.weight.eq(0).all() for b in resnet18().modules() if isinstance(b, BasicBlock))


# --- bad input ----------------------------------------------------------------------------------


def test_wrong_size_names_model_shape_and_fix():
    net = alexnet()
    x = torch.rand(2, 1, 28, 28)
    with pytest.raises(RuntimeError):  # what the layers alone would say
        net.forward(x)
    with pytest.raises(ValueError) as info:
        net(x)
    message = str(info.value)
    assert "alexnet" in message and "(N, 1, 224, 224)" in message and "(2, 1, 28, 28)" in message
    assert "load_data_fashion_mnist(batch_size, resize=224)" in message
    with pytest.raises(ValueError, match="without resize"):
        lenet()(torch.rand(2, 1, 224, 224))
    with torch.device("meta"):  # built by vgg(), relabelled by vgg11_narrow()
        with pytest.raises(ValueError, match=r"^vgg11_narrow expects"):
            get_model("vgg11_narrow")(torch.rand(2, 1, 28, 28))


def test_wrong_channels_and_rank_say_how_to_fix():
    with pytest.raises(ValueError, match=r"resnet18 expects .*\(N, 3, H, W\).*resnet18\(in_channels=1\)"):
        resnet18()(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"unsqueeze\(0\)"):
        lenet()(torch.rand(1, 28, 28))


@pytest.mark.parametrize("name, minimum", [("nin", 67), ("densenet", 29), ("densenet121", 29)])
def test_global_pooling_models_state_a_tight_minimum(name, minimum):
    with torch.device("meta"):  # shape checks only
        net = get_model(name).eval()
        channels = net.input_size[0]
        assert net(torch.rand(1, channels, minimum, minimum)).shape[0] == 1
        too_small = torch.rand(1, channels, minimum - 1, minimum - 1)
        with pytest.raises(RuntimeError):  # the minimum is tight: one pixel less breaks a layer
            net.forward(too_small)
        with pytest.raises(ValueError, match=f"{name} expects .* >= {minimum}.*resize="):
            net(too_small)


def test_padded_global_pooling_models_take_tiny_images():
    """Every stride-2 layer of these pads, so they need no minimum size (and state none)."""
    with torch.no_grad():
        for net, classes in ((get_model("googlenet"), 10), (resnet18_d2l(), 10), (resnet18(), 1000)):
            assert net.eval()(torch.rand(1, net.input_size[0], 1, 1)).shape == (1, classes)


# --- tracing and saving -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_models_are_traceable_by_torch_fx(name):
    """coursekit.inspect traces models with torch.fx: every model must trace.

    The traces of the d2l forms are also run (on ``meta``, for their shapes);
    the GoogLeNet test above runs a paper-form trace with its tuple output.
    """
    with torch.device("meta"):
        net = get_model(name).eval()
        traced = torch.fx.symbolic_trace(net)
        if name in D2L_SIZES:
            assert traced(torch.rand(2, *net.input_size)).shape == (2, 10)


def test_traced_scratch_batch_norm_computes_the_same():
    net = bn_lenet_scratch()
    traced = torch.fx.symbolic_trace(copy.deepcopy(net))
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(traced(x), net(x))
    torch.testing.assert_close(traced.get_submodule("1").moving_mean, net[1].moving_mean)


def test_models_keep_their_input_check_through_pickle_and_deepcopy():
    for clone in (pickle.loads(pickle.dumps(densenet())), copy.deepcopy(densenet())):
        assert clone.input_size == (1, 96, 96)
        with pytest.raises(ValueError, match="densenet expects"):
            clone(torch.rand(1, 1, 28, 28))


# --- learning on real data ----------------------------------------------------------------------

BATCH = 8
# Smaller than the chapter's 96/224 where global pooling allows it, to keep the test fast on a CPU.
TRAIN_SIZES = {**D2L_SIZES, "nin": 96, "googlenet": 32, "resnet18_d2l": 32, "densenet": 32}


@pytest.fixture(scope="module")
def fashion_mnist_batch(fashion_root):
    """``batch(size)``: one fixed batch of real Fashion-MNIST training images at ``size`` x ``size``."""
    batches = {}

    def batch(size: int) -> tuple[torch.Tensor, torch.Tensor]:
        if size not in batches:
            train_iter, _ = load_data_fashion_mnist(
                BATCH, resize=None if size == 28 else size, root=fashion_root, device="cpu",
                n_train=BATCH, n_test=BATCH)
            batches[size] = next(iter(train_iter))
        return batches[size]

    return batch


@pytest.mark.parametrize("name", list(D2L_SIZES))
def test_d2l_forms_learn_on_a_real_batch(name, fashion_mnist_batch):
    X, y = fashion_mnist_batch(TRAIN_SIZES[name])
    assert X.shape == (BATCH, 1, TRAIN_SIZES[name], TRAIN_SIZES[name]) and X.dtype == torch.float32
    torch.manual_seed(0)
    net = get_model(name)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)

    def loss() -> torch.Tensor:
        torch.manual_seed(1)  # the same dropout mask every time, so losses are comparable
        return F.cross_entropy(net(X), y)

    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
        losses.append(value.item())
    with torch.no_grad():
        losses.append(loss().item())
    assert all(math.isfinite(v) for v in losses), losses
    assert losses[-1] < losses[0], losses
