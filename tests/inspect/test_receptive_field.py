"""coursekit.inspect.receptive_field: theoretical and effective receptive fields.

Expected values come from hand derivations and closed-form formulas, or from
PyTorch itself (output shapes, autograd), never from the module under test.
The strongest check is the gradient-support test: the input pixels that can
change one output unit (the non-zero support of its input gradient) must be
exactly the receptive field computed by ``receptive_field``.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from coursekit.inspect import UnsupportedOperationError, effective_receptive_field, receptive_field
from tests.helpers import ResNetTiny, d2l_lenet

# ---------------------------------------------------------------------------
# Test networks
# ---------------------------------------------------------------------------


def alexnet_features(width: int = 16) -> nn.Sequential:
    """d2l's AlexNet feature extractor with few channels (the geometry is what matters)."""
    c = width
    return nn.Sequential(
        nn.Conv2d(1, c, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c, c, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c, c, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c, c, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c, c, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
    )


class Inception(nn.Module):
    """GoogLeNet's block: 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 branches, concatenated."""

    def __init__(self, c_in: int, c: int) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(c_in, c, 1)
        self.b2 = nn.Sequential(nn.Conv2d(c_in, c, 1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(c_in, c, 1), nn.ReLU(), nn.Conv2d(c, c, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(c_in, c, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((F.relu(self.b1(x)), F.relu(self.b2(x)), F.relu(self.b3(x)),
                          F.relu(self.b4(x))), dim=1)


class InceptionNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        self.inc = Inception(8, 8)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.inc(self.stem(x)))


class DenseBlock(nn.Module):
    def __init__(self, num_convs: int, c_in: int, growth: int) -> None:
        super().__init__()
        self.net = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c_in + i * growth), nn.ReLU(),
                          nn.Conv2d(c_in + i * growth, growth, 3, padding=1))
            for i in range(num_convs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.net:
            x = torch.cat((x, blk(x)), dim=1)
        return x


class DenseNetTiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.block1 = DenseBlock(2, 8, 6)
        self.transition = nn.Sequential(nn.BatchNorm2d(20), nn.ReLU(), nn.Conv2d(20, 10, 1),
                                        nn.AvgPool2d(2, stride=2))
        self.block2 = DenseBlock(2, 10, 6)
        self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(22, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block2(self.transition(self.block1(self.stem(x)))))


class Misaligned(nn.Module):
    """Two paths whose first units are centred half a pixel apart."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 2, 3, padding=1)                                   # rows -1..1
        self.b = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(1, 2, 2))    # rows 0..1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) + self.b(x)


class Cross(nn.Module):
    """A 1x5 and a 5x1 path: the union of their fields is a cross, not a rectangle."""

    def __init__(self) -> None:
        super().__init__()
        self.wide = nn.Conv2d(1, 2, (1, 5), padding=(0, 2))
        self.tall = nn.Conv2d(1, 2, (5, 1), padding=(2, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.wide(x) + self.tall(x)


def dilated_stack() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, dilation=1), nn.ReLU(),
                         nn.Conv2d(3, 3, 3, padding=2, dilation=2), nn.ReLU(),
                         nn.Conv2d(3, 3, 3, padding=4, dilation=4))


# ---------------------------------------------------------------------------
# The check that cannot lie: support of the input gradient == receptive field
# ---------------------------------------------------------------------------


def _node_output(net: nn.Module, node_name: str) -> fx.GraphModule:
    """The traced network cut after node ``node_name`` (written here, independently of the module)."""
    gm = fx.symbolic_trace(net)
    graph = fx.Graph()
    env: dict = {}
    graph.graph_copy(gm.graph, env)
    graph.output(env[next(n for n in gm.graph.nodes if n.name == node_name)])
    return fx.GraphModule(gm, graph)


def gradient_support(net: nn.Module, input_size: tuple, node_name: str, unit: tuple[int, int],
                     n_samples: int = 8, seed: int = 0) -> np.ndarray:
    """Boolean (H, W) map of the input pixels with a non-zero gradient of ``unit``.

    float64 and several random inputs, so that ReLU and max-pooling, which cut
    some paths for any one input, leave every reachable pixel reached at least once.
    """
    net = copy.deepcopy(net).double().eval()
    sub = _node_output(net, node_name)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n_samples, *input_size[1:]), generator=g, dtype=torch.float64, requires_grad=True)
    out = sub(x)
    out[:, :, unit[0], unit[1]].sum().backward()
    return (x.grad.abs().sum(dim=(0, 1)) > 0).numpy()


def assert_support_matches(net: nn.Module, input_size: tuple, layer: str | None = None,
                           n_samples: int = 8) -> None:
    """Compare the gradient support of a central unit of ``layer`` with its computed field.

    Default layer: the last one with a map of at least 3x3 (so the unit is interior).
    """
    torch.manual_seed(0)
    table = receptive_field(net, (1, *input_size[1:]))  # the field does not depend on the batch
    if layer is None:
        row = [r for r in table.rows if not r.flat and min(r.size) >= 3][-1]
    else:
        row = table[layer]
    unit = (row.size[0] // 2, row.size[1] // 2)
    support = gradient_support(net, input_size, row.node, unit, n_samples)
    top, bottom, left, right = table.box(row.name, unit)
    rows, cols = np.nonzero(support)
    assert rows.size, f"no gradient at all for {row.name}"
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (top, bottom, left, right), (
        f"{row.name} unit {unit}: gradient support rows {rows.min()}..{rows.max()}, cols "
        f"{cols.min()}..{cols.max()}; computed field rows {top}..{bottom}, cols {left}..{right}")
    box = np.zeros_like(support)
    box[top:bottom + 1, left:right + 1] = True
    if row.solid:  # a rectangle without holes: every pixel in it must be reached
        np.testing.assert_array_equal(support, box, err_msg=f"{row.name}: support is not the full box")
    else:
        assert not (support & ~box).any()


# ---------------------------------------------------------------------------
# Receptive fields by hand
# ---------------------------------------------------------------------------


def test_lenet_fields_by_hand() -> None:
    table = receptive_field(d2l_lenet(), (1, 1, 28, 28))
    windows = [r for r in table.rows if r.kernel is not None]
    assert [r.rf for r in windows] == [(5, 5), (6, 6), (14, 14), (16, 16)]
    assert [r.jump for r in windows] == [(1, 1), (2, 2), (2, 2), (4, 4)]
    # centre of the first unit: 0 -> +1/2*1 -> +2*2 -> +1/2*2
    assert [r.center for r in windows] == [(0, 0), (0.5, 0.5), (4.5, 4.5), (5.5, 5.5)]
    assert [r.output_shape for r in windows] == [(1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 5, 5)]
    # The classifier sees all 5x5 positions of the last map: 16 + (5 - 1) * 4 = 32 >= 28.
    last = table.rows[-1]
    assert last.whole and last.rf == (32, 32) and last.flat
    assert table["0"].type == "Conv2d" and table[0].name == "input"


def test_alexnet_fields_by_hand() -> None:
    table = receptive_field(alexnet_features(), (1, 1, 224, 224))
    windows = [r for r in table.rows if r.kernel is not None]
    assert [r.rf[0] for r in windows] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert [r.jump[0] for r in windows] == [4, 8, 8, 16, 16, 16, 16, 32]
    assert [r.size for r in windows] == [(54, 54), (26, 26), (26, 26), (12, 12), (12, 12), (12, 12),
                                         (12, 12), (5, 5)]


def test_dilated_stack() -> None:
    table = receptive_field(dilated_stack(), (1, 1, 32, 32))
    convs = [r for r in table.rows if r.type == "Conv2d"]
    # k_eff = d * (k - 1) + 1 = 3, 5, 9: rf = 1 + 2 + 4 + 8
    assert [r.rf for r in convs] == [(3, 3), (7, 7), (15, 15)]
    assert [r.dilation for r in convs] == [(1, 1), (2, 2), (4, 4)]
    assert all(r.center == (0, 0) and r.solid for r in convs)


def test_dilation_with_holes() -> None:
    # A 1x1 conv sees one pixel, then taps 2 pixels apart: pixels 0, 2, 4 but not 1, 3.
    net = nn.Sequential(nn.Conv2d(1, 8, 1), nn.ReLU(), nn.Conv2d(8, 2, 3, dilation=2))
    row = receptive_field(net, (1, 1, 12, 12))["2"]
    assert row.rf == (5, 5) and not row.solid and "holes" in row.note
    support = gradient_support(net, (1, 1, 12, 12), row.node, (3, 3))
    rows, cols = np.nonzero(support)
    assert sorted(set(rows)) == [3, 5, 7] and sorted(set(cols)) == [3, 5, 7]


@pytest.mark.parametrize("n, k, s, p, expected", [
    (7, 2, 2, 0, 4),   # ceil((7 - 2) / 2) + 1 = 4 (floor would give 3)
    (6, 3, 2, 0, 3),   # ceil(3 / 2) + 1 = 3
    (5, 2, 2, 1, 3),   # 4 windows, but the last would start in the right padding
])
def test_ceil_mode_pool(n: int, k: int, s: int, p: int, expected: int) -> None:
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(k, stride=s, padding=p, ceil_mode=True))
    assert net(torch.zeros(1, 1, n, n)).shape[-1] == expected  # PyTorch agrees with the hand count
    row = receptive_field(net, (1, n, n))["1"]
    assert row.size == (expected, expected)
    assert row.rf == (3 + (k - 1), 3 + (k - 1)) and row.jump == (s, s)
    assert row.first_field == ((-1 - p, 1 + k - 1 - p),) * 2


def test_rectangular_kernels_and_asymmetric_geometry() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, (3, 7), stride=(1, 2), padding=(1, 0)),
                        nn.MaxPool2d((2, 1), stride=(2, 1)))
    table = receptive_field(net, (1, 1, 20, 30))
    conv, pool = table["0"], table["1"]
    assert conv.rf == (3, 7) and conv.jump == (1, 2) and conv.center == (0, 3)
    assert pool.rf == (4, 7) and pool.jump == (2, 2) and pool.center == (0.5, 3)
    assert pool.output_shape == (1, 2, 10, 12)
    assert "3x7" in str(table)


def test_global_pooling_and_linear_see_everything() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    table = receptive_field(net, (1, 1, 10, 10))
    assert not table["0"].whole
    assert all(table[name].whole for name in ("1", "2", "3"))
    assert table["1"].rf == (10, 10)  # 3 + (8 - 1) * 1


def test_functional_ops_are_followed() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.conv(x)), 2)               # rf 3 -> 4, jump 2
            x = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)  # rf 4 + 2 * 2 = 8
            x = F.adaptive_avg_pool2d(x, (1, 1))
            return x.view(x.size(0), -1)

    table = receptive_field(Functional(), (1, 1, 16, 16))
    assert [(r.type, r.rf[0]) for r in table.rows] == [
        ("input", 1), ("Conv2d", 3), ("max_pool2d", 4), ("avg_pool2d", 8),
        ("adaptive_avg_pool2d", 8 + 6 * 2), ("view", 20)]


# ---------------------------------------------------------------------------
# Multi-path networks
# ---------------------------------------------------------------------------


def test_inception_takes_the_widest_branch() -> None:
    table = receptive_field(InceptionNet(), (1, 1, 64, 64))
    # stem: conv3 s2 -> rf 3, j 2; maxpool3 s2 -> rf 7, j 4; the 5x5 branch: 7 + 4 * 4 = 23
    assert table["stem"].rf == (7, 7) and table["stem"].jump == (4, 4)
    cat = table["inc"]
    assert cat.type == "cat" and cat.rf == (23, 23) and cat.jump == (4, 4)
    assert cat.note == ""  # all branches centred on the same pixel
    assert table["inc.b2.2"].rf == (15, 15) and table["inc.b4.1"].rf == (15, 15)


def test_residual_shortcut_is_aligned() -> None:
    table = receptive_field(ResNetTiny(), (1, 1, 64, 64))
    # stem: 7 (j 2), pool 7 + 2 * 2 = 11 (j 4); block 1: 11 + 2*4 + 2*4 = 27;
    # block 2: conv s2 27 + 8 = 35 (j 8), conv 35 + 16 = 51; shortcut 1x1 s2: 27.
    assert table["stage.0"].rf == (27, 27)
    block = table["stage.1"]  # a container: the geometry of its output, F.relu(y + x)
    assert block.type == "add" and block.node.startswith("relu")
    assert block.rf == (51, 51) and block.jump == (8, 8) and block.note == ""
    assert table["stage.1.shortcut"].rf == (27, 27) and table["stage.1.shortcut"].jump == (8, 8)


def test_misaligned_paths_are_reported() -> None:
    table = receptive_field(Misaligned(), (1, 1, 16, 16))
    add = [r for r in table.rows if r.type == "add"][0]
    assert add.rf == (3, 3) and add.first_field == ((-1, 1), (-1, 1))
    assert "centre" in add.note and "0 vs 0.5" in add.note


def test_cross_shaped_union_is_not_a_rectangle() -> None:
    add = [r for r in receptive_field(Cross(), (1, 1, 16, 16)).rows if r.type == "add"][0]
    assert add.rf == (5, 5) and not add.solid and "not a rectangle" in add.note


@pytest.mark.parametrize("make, size", [
    (d2l_lenet, (1, 1, 28, 28)),
    (alexnet_features, (1, 1, 224, 224)),
    (dilated_stack, (1, 1, 40, 40)),
    (InceptionNet, (1, 1, 64, 64)),
    (ResNetTiny, (1, 1, 64, 64)),
    (DenseNetTiny, (1, 1, 32, 32)),
    (Misaligned, (1, 1, 16, 16)),
    (Cross, (1, 1, 16, 16)),
])
def test_gradient_support_equals_receptive_field(make, size) -> None:
    assert_support_matches(make(), size)


def test_gradient_support_of_every_layer_of_a_branching_net() -> None:
    net = InceptionNet()
    table = receptive_field(net, (1, 1, 40, 40))
    for row in table.rows[1:]:
        if not row.flat and min(row.size) >= 3:
            # max-pooling after max-pooling reaches the corners of the field
            # only for rare inputs: many samples
            assert_support_matches(net, (1, 1, 40, 40), row.name, n_samples=32)


def test_gradient_support_at_the_border_is_clipped() -> None:
    net = ResNetTiny()
    table = receptive_field(net, (1, 1, 64, 64))
    row = table["stage.1"]
    support = gradient_support(net, (1, 1, 64, 64), row.node, (0, 0))
    top, bottom, left, right = table.box(row.name, (0, 0))
    assert (top, left) == (0, 0)  # the first field starts in the padding: clipped to the image
    assert row.first_field[0][0] < 0
    rows, cols = np.nonzero(support)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (top, bottom, left, right)


# ---------------------------------------------------------------------------
# Every model family of the course
# ---------------------------------------------------------------------------


def _course_models() -> list:
    try:
        from coursekit.models import MODELS
    except ImportError:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="coursekit.models is not there yet"))]
    from coursekit.config import get_profile

    # The d2l forms cover every family (LeNet, AlexNet, VGG, NiN, GoogLeNet,
    # BatchNorm, ResNet, DenseNet); resnet50 adds torchvision's Bottleneck.
    # The other ImageNet forms repeat those blocks at great cost on a CPU:
    # they run in the laptop and full profiles.
    quick = {"lenet", "lenet_modern", "bn_lenet_scratch", "bn_lenet", "alexnet", "vgg11_narrow", "nin",
             "googlenet", "resnet18_d2l", "densenet", "resnet50"}
    slow = pytest.mark.skipif(get_profile() == "smoke", reason="ImageNet form: slow on a CPU; "
                              "run with COURSEKIT_PROFILE=laptop")
    return [pytest.param(name, make, marks=() if name in quick else slow) for name, make in MODELS.items()]


# Networks with global pooling take smaller images than they were built for,
# to keep the suite fast on a CPU; the field is still followed through every
# block down to a map of >= 3x3. The others get ``net.input_size``.
_SMALL_SIDE = {"googlenet": 64, "resnet18_d2l": 64, "densenet": 64, "resnet18": 48, "resnet34": 48,
               "resnet50": 32, "resnet101": 32, "resnet152": 32, "densenet121": 48}


@pytest.mark.parametrize("name, make", _course_models())
def test_gradient_support_for_every_course_model(name, make) -> None:
    torch.manual_seed(0)
    net = make()
    channels, height, width = net.input_size
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in net.parameters()):
        with torch.no_grad():
            net.eval()(torch.zeros(1, channels, height, width))  # initialise lazy layers
    side = _SMALL_SIDE.get(name)
    size = (4, channels, side or height, side or width)
    assert_support_matches(net, size, n_samples=4)


# ---------------------------------------------------------------------------
# What receptive_field cannot follow
# ---------------------------------------------------------------------------


def test_unsupported_op_is_named() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Upsample(scale_factor=2), nn.Conv2d(2, 2, 3))
    with pytest.raises(UnsupportedOperationError, match=r"Upsample") as info:
        receptive_field(net, (1, 1, 16, 16))
    assert "'1'" in str(info.value)

    class Crop(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :, 1:-1, 1:-1]

    with pytest.raises(UnsupportedOperationError, match="getitem"):
        receptive_field(Crop(), (1, 1, 16, 16))


def test_untraceable_net_says_so() -> None:
    class DataDependent(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(RuntimeError, match="torch.fx"):
        receptive_field(DataDependent(), (1, 1, 8, 8))


# ---------------------------------------------------------------------------
# More layers, and the table itself
# ---------------------------------------------------------------------------


def test_table_text_is_deterministic() -> None:
    a, b = str(receptive_field(DenseNetTiny(), (1, 1, 32, 32))), str(receptive_field(DenseNetTiny(), (1, 1, 32, 32)))
    assert a == b and not re.search(r"0x[0-9a-f]{6,}", a)


def test_functional_conv_and_asymmetric_pad() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(2, 1, 3, 5))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.pad(x, (1, 2, 0, 3))  # left 1, right 2, top 0, bottom 3
            return F.conv2d(x, self.weight, stride=2, padding=(1, 0))

    table = receptive_field(Functional(), (1, 1, 10, 10))
    pad, conv = table.rows[1], table.rows[2]
    assert pad.type == "pad" and pad.size == (13, 13)
    assert pad.first_field == ((0, 0), (-1, -1))  # the first column is now padding, at pixel -1
    # rows: padding 0 + 1, kernel 3 -> -1..1; columns: padding 1 + 0, kernel 5 -> -1..3
    assert conv.first_field == ((-1, 1), (-1, 3)) and conv.rf == (3, 5) and conv.jump == (2, 2)
    assert conv.output_shape == (1, 2, 7, 5)
    assert_support_matches(Functional(), (1, 1, 10, 10), conv.name)


def test_irregular_adaptive_pooling_is_flagged() -> None:
    # 7 units into 3 windows: [0, 3), [2, 5), [4, 7); the first window holds 3 units.
    table = receptive_field(nn.Sequential(nn.AdaptiveAvgPool2d(3)), (1, 1, 7, 7))
    row = table["0"]
    assert row.rf == (3, 3) and row.size == (3, 3) and "unequal" in row.note


def test_channel_reshuffles_keep_the_geometry() -> None:
    class Shuffle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv(x)
            n, c, h, w = x.shape
            x = x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
            return x[:, :2]

    table = receptive_field(Shuffle(), (1, 1, 9, 9))
    assert [r.type for r in table.rows] == ["input", "Conv2d"]
    assert table["conv"].rf == (3, 3)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_with_even_kernels() -> None:
    # 'same' pads d*(k-1) in total, the odd pixel at the bottom/right: for k=4, 1 before and 2 after.
    net = nn.Sequential(nn.Conv2d(1, 4, 4, padding="same"), nn.ReLU(),
                        nn.Conv2d(4, 4, (2, 3), padding="same", dilation=(1, 2)))
    table = receptive_field(net, (1, 1, 9, 9))
    assert table["0"].first_field == ((-1, 2), (-1, 2)) and "bottom 2" in table["0"].note
    # second conv: rows k=2 -> pads 0/1, columns k_eff=5 -> pads 2/2
    assert table["2"].first_field == ((-1, 3), (-3, 4))
    for layer in ("0", "2"):
        assert_support_matches(net, (4, 1, 9, 9), layer)


def test_lookup_of_an_unknown_layer() -> None:
    table = receptive_field(d2l_lenet(), (1, 1, 28, 28))
    with pytest.raises(KeyError, match="no layer named"):
        table["features"]
    assert "<table>" in table._repr_html_() and "<td" in table._repr_html_()


def test_lookup_by_node_and_container_name() -> None:
    table = receptive_field(ResNetTiny(), (1, 1, 64, 64))
    conv = table["stem.0"]
    assert table[conv.node] is conv  # the torch.fx node of a row finds the same row
    block = table["stage.0"]  # a container: the row of its output, renamed
    assert block.name == "stage.0" and block.rf == table["stage.0.bn2"].rf != conv.rf


# ---------------------------------------------------------------------------
# Effective receptive field
# ---------------------------------------------------------------------------


def test_effective_receptive_field() -> None:
    net = ResNetTiny()
    erf = effective_receptive_field(net, (1, 1, 48, 48), n_samples=8, seed=1)
    assert erf.grad.shape == (48, 48) and (erf.grad >= 0).all()
    assert erf.layer.startswith("stage.1")  # the last map with more than one unit
    top, bottom, left, right = erf.box
    outside = erf.grad.copy()
    outside[top:bottom + 1, left:right + 1] = 0
    assert not outside.any()  # nothing outside the theoretical field
    assert erf.support_box() == erf.box
    again = effective_receptive_field(net, (1, 1, 48, 48), n_samples=8, seed=1)
    np.testing.assert_array_equal(erf.grad, again.grad)
    # It is peaked: the centre of the field weighs more than its border.
    cy, cx = (top + bottom) // 2, (left + right) // 2
    assert erf.grad[cy - 2:cy + 3, cx - 2:cx + 3].mean() > erf.grad[top, left:right + 1].mean()

    import matplotlib
    matplotlib.use("Agg")
    fig = erf.plot()
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_effective_receptive_field_of_a_chosen_unit() -> None:
    erf = effective_receptive_field(InceptionNet(), (1, 1, 32, 32), layer="inc", unit=(0, 0), n_samples=4)
    # stem conv3 s2 p1: -1..1 (jump 2); max-pool 3 s2 p1: -3..3 (jump 4);
    # 5x5 branch, padding 2: -3 - 2*4 .. 3 + 2*4 = -11..11, clipped to 0..11
    assert erf.box == (0, 11, 0, 11) and erf.rf == (23, 23)
    assert erf.support_box() == (0, 11, 0, 11)
    with pytest.raises(ValueError, match="outside"):
        effective_receptive_field(InceptionNet(), (1, 1, 32, 32), layer="inc", unit=(9, 0))


class Flip(nn.Module):
    """Reverses the width between two convolutions with an index gather."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)
        self.register_buffer("reversed_columns", torch.arange(13, -1, -1))  # the 14 columns after c1, for 16x16

    def forward(self, x):
        x = self.c1(x)
        return self.c2(x[..., self.reversed_columns])


def test_an_index_gather_along_the_width_is_refused_not_skipped() -> None:
    with pytest.raises(UnsupportedOperationError, match="selects, crops or reorders along the height or width"):
        receptive_field(Flip(), (1, 1, 16, 16))


@pytest.mark.parametrize("index", [(slice(None), slice(1, 3)), (slice(None), [1, 2]),
                                   (Ellipsis, slice(1, 3), slice(None), slice(None))])
def test_indexing_channels_is_followed(index) -> None:
    class PickChannels(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 4, 3), nn.Conv2d(2, 1, 3)

        def forward(self, x):
            return self.c2(self.c1(x)[index])

    assert receptive_field(PickChannels(), (1, 1, 16, 16)).rows[-1].rf == (5, 5)
