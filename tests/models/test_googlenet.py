"""coursekit.models.googlenet: the Inception block, and GoogLeNet against the paper's Table 1."""

from __future__ import annotations

import pytest
import torch
import torch.fx
import torch.nn.functional as F
import torchvision

from coursekit.models import GoogLeNetOutputs, Inception, googlenet, googlenet_imagenet, googlenet_loss
from tests.helpers import assert_block_shapes, count


def test_inception_block_concatenates_its_four_branches():
    assert_block_shapes(Inception(8, 4, (4, 6), (2, 3), 5), (2, 8, 9, 9), (2, 4 + 6 + 3 + 5, 9, 9))


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


def test_googlenet_ratio():
    assert count(googlenet(ratio=1)) == count(googlenet()) == 5_977_530
    narrow = googlenet(ratio=4)
    blocks = [m for m in narrow.modules() if isinstance(m, Inception)]
    assert [b.out_channels for b in blocks] == [64, 120, 128, 128, 128, 132, 208, 208, 256]
    assert narrow[-1].in_features == 256
    assert narrow(torch.zeros(2, 1, 64, 64)).shape == (2, 10)
    assert googlenet(ratio=64)(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError):
        googlenet(ratio=1.5)
