"""coursekit.models as a whole: the table of models, and what every model promises.

Every model builds from ``get_model`` with ``in_channels`` and ``num_classes``,
gives the documented output shape, checks its input and says how to fix a
wrong one, traces with torch.fx, survives pickling, and learns on real data.
Large ImageNet networks are built on the ``meta`` device, which propagates
shapes through every layer without allocating or computing, so shape checks
cost milliseconds.
"""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
import torch.fx
import torch.nn.functional as F

from coursekit.data import load_data_fashion_mnist
from coursekit.models import MODELS, alexnet, densenet, get_model, lenet, list_models, resnet18, resnet18_d2l

# The image side each d2l-form network is trained at in d2l's "Modern CNNs" chapter.
D2L_SIZES = {
    "lenet": 28, "lenet_modern": 28, "bn_lenet_scratch": 28, "bn_lenet": 28,
    "alexnet": 224, "vgg11_narrow": 224, "nin": 224,
    "googlenet": 96, "resnet18_d2l": 96, "densenet": 96,
    "resnet18_small": 28,  # chapter 13's, with the small-image stem (not in d2l)
}
# The ImageNet forms: the papers' networks (torchvision's design where it follows them).
IMAGENET = ["alexnet_imagenet", "googlenet_imagenet", "vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34",
            "resnet50", "resnet101", "resnet152", "densenet121"]

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]


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
    tests/models/test_googlenet.py runs a paper-form trace with its tuple output.
    """
    with torch.device("meta"):
        net = get_model(name).eval()
        traced = torch.fx.symbolic_trace(net)
        if name in D2L_SIZES:
            assert traced(torch.rand(2, *net.input_size)).shape == (2, 10)


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
