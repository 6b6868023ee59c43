"""coursekit.explain: the hand-written maps agree with Captum's, mean something, and refuse bad input clearly."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam, Saliency
from torch import nn

import coursekit as ck
from coursekit import explain


def gap_net(classes: int = 3) -> nn.Sequential:
    """A small network that ends in global average pooling and one linear layer (ResNet's design)."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, classes))


def images(n=4, side=16, seed=0):
    return torch.rand(n, 1, side, side, generator=torch.Generator().manual_seed(seed))


# --- The same maps as Captum, on the same model and input -------------------------------------------------

def test_grad_cam_is_captums_layer_grad_cam():
    torch.manual_seed(0)  # at random init a class's map may be negative everywhere, hence all zero after the ReLU
    net = ck.models.resnet18_d2l().eval()
    X, target = images(3, 64), torch.tensor([0, 2, 4])
    for layer in ("3", "4"):
        ours = explain.grad_cam(net, X, layer, target)
        theirs = LayerGradCam(net, explain.get_layer(net, layer)).attribute(X, target=target, relu_attributions=True)
        assert ours.shape == theirs.shape[:1] + theirs.shape[2:] and ours.abs().max() > 0
        torch.testing.assert_close(ours, theirs[:, 0], rtol=1e-4, atol=1e-6)


def test_saliency_is_captums_saliency_with_the_max_over_channels():
    net = ck.models.lenet().eval()
    X = images(5, 28)
    ours = explain.saliency(net, X, 2)
    theirs = Saliency(net).attribute(X.requires_grad_(), target=2, abs=True).amax(dim=1)
    assert ours.shape == (5, 28, 28) and ours.abs().max() > 0
    torch.testing.assert_close(ours, theirs)


def test_cam_is_grad_cam_of_the_last_feature_maps_times_their_size_plus_the_bias():
    # For a GAP network the gradient of a class score w.r.t. the last maps is w_c / (h * w) at every position.
    net = gap_net().eval()
    X, target = images(4), torch.tensor([0, 1, 2, 1])
    cam = explain.class_activation_map(net, X, target)
    grad = LayerGradCam(net, net[6]).attribute(X, target=target)[:, 0]  # captum, without its ReLU
    h, w = cam.shape[-2:]
    torch.testing.assert_close(cam, grad * h * w + net[-1].bias[target][:, None, None], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, kwargs, side", [("nin", {"ratio": 8}, 96), ("googlenet", {"ratio": 8}, 64),
                                                ("resnet18_d2l", {}, 32), ("densenet", {}, 32)])
def test_every_course_gap_network_gets_class_maps_whose_means_are_its_logits(name, kwargs, side):
    net = ck.get_model(name, **kwargs).eval()
    X = images(2, side)
    maps = explain.class_activation_maps(net, X)
    assert maps.shape[:2] == (2, 10)
    torch.testing.assert_close(maps.mean(dim=(2, 3)), net(X), rtol=1e-4, atol=1e-5)
    predicted = net(X).argmax(dim=1)
    torch.testing.assert_close(explain.class_activation_map(net, X), maps[torch.arange(2), predicted])


# --- The maps mean something -------------------------------------------------------------------------------

SIDE, P = 24, 5
PLUS = torch.zeros(P, P)
PLUS[2, :] = PLUS[:, 2] = 1
CROSS = (torch.eye(P) + torch.eye(P).flip(1)).clamp(max=1)
SQUARE = torch.zeros(P, P)
SQUARE[1:4, 1:4] = 1  # as bright in all as the patterns, and in every image: a distractor


def patch_task(n: int, seed: int):
    """Images with a square (all classes) and, at a random place, a plus (class 0), a cross (1) or nothing (2).

    The third class makes the network look for both patterns: with two classes, one can be "no cross".
    Returns ``(X, y, corner of the pattern)``.
    """
    g = torch.Generator().manual_seed(seed)
    X = 0.1 * torch.rand(n, 1, SIDE, SIDE, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    corners = torch.zeros(n, 2, dtype=torch.long)
    for i in range(n):
        while True:
            a, b = (torch.randint(0, SIDE - P + 1, (2,), generator=g) for _ in range(2))
            if (a - b).abs().max() >= P + 3:
                break
        if y[i] < 2:
            X[i, 0, a[0]:a[0] + P, a[1]:a[1] + P] += PLUS if y[i] == 0 else CROSS
        X[i, 0, b[0]:b[0] + P, b[1]:b[1] + P] += SQUARE
        corners[i] = a
    return X, y, corners


def share_inside(maps, corners, margin=2):
    """The share of maps whose peak is in the pattern, grown by the maps' resolution (2 pixels)."""
    r = explain.peaks(maps, (SIDE, SIDE))
    inside = ((r >= corners - margin) & (r < corners + P + margin)).all(dim=1)
    return inside.float().mean().item()


def test_cam_and_grad_cam_peak_on_the_pattern_that_decides_the_class():
    X, y = patch_task(2048, seed=0)[:2]
    test, test_y, corners = patch_task(300, seed=1)
    net = gap_net()
    has = test_y < 2  # images of class 2 have no pattern to find
    before = share_inside(explain.class_activation_map(net, test[has]), corners[has])
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    for epoch in range(3):
        for batch in torch.randperm(len(X), generator=torch.Generator().manual_seed(epoch)).split(64):
            loss = nn.functional.cross_entropy(net(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert ck.evaluate_accuracy(net, [(test, test_y)]) > 0.95
    cam = explain.class_activation_map(net, test[has])
    gcam = explain.grad_cam(net, test[has], "6")
    assert cam.shape == gcam.shape == (int(has.sum()), SIDE // 2, SIDE // 2)
    assert share_inside(cam, corners[has]) >= 0.9 and share_inside(gcam, corners[has]) >= 0.9
    assert before < 0.9  # an untrained network's maps do not pass: the criterion can fail


# --- Feature maps, filters, embeddings ---------------------------------------------------------------------

def test_feature_maps_are_the_layers_outputs_through_the_depth():
    net = ck.models.resnet18_d2l().train()
    X = images(2, 32)
    maps = explain.feature_maps(net, X, ["0", "2", "4"])
    assert [tuple(m.shape) for m in maps.values()] == [(2, 64, 8, 8), (2, 128, 4, 4), (2, 512, 1, 1)]
    assert net.training  # the mode is given back
    torch.testing.assert_close(explain.feature_maps(net, X, "0")["0"], net.eval()[0](X))


def test_on_canvas_pastes_each_image_on_its_own_background_where_it_says():
    X = images(3, 8)
    canvases, corners = explain.on_canvas(X, 20, seed=1)
    assert canvases.shape == (3, 1, 20, 20) and corners.shape == (3, 2)
    for image, canvas, (row, col) in zip(X, canvases, corners.tolist()):
        assert torch.equal(canvas[:, row:row + 8, col:col + 8], image)
        assert (canvas == image[:, 0, 0]).sum() >= 20 * 20 - 8 * 8
    with pytest.raises(ValueError, match="at least as large as the images"):
        explain.on_canvas(X, 4)


def test_first_conv_and_layer_names():
    net = ck.models.lenet()
    assert explain.first_conv(net) is net[0] and explain.first_conv(net).weight.shape == (6, 1, 5, 5)
    assert explain.layer_names(net)[:2] == ["0", "1"]
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        explain.first_conv(nn.Linear(2, 2))


def test_penultimate_features_embeddings_and_confused_pairs():
    net = ck.models.resnet18_d2l().eval()
    data = [(images(8, 32, seed=s), torch.arange(8) % 4) for s in range(3)]
    features, labels = explain.penultimate_features(net, data, max_examples=20)
    assert features.shape == (20, 512) and labels.tolist() == (torch.arange(24) % 4)[:20].tolist()
    nin_features, _ = explain.penultimate_features(ck.models.nin(ratio=8).eval(),
                                                   [(images(4, 96), torch.zeros(4))])
    assert nin_features.shape == (4, 10)
    for method in ("pca", "tsne"):
        points = explain.embed_2d(features, method)
        assert points.shape == (20, 2) and np.isfinite(points).all()
    with pytest.raises(ValueError, match="'tsne' or 'pca'"):
        explain.embed_2d(features, "umap")
    matrix = torch.tensor([[50, 3, 9], [1, 40, 0], [12, 2, 30]])
    assert explain.confused_pairs(matrix, 2) == [(0, 2, 21), (0, 1, 4)]


def test_plots_overlay_maps_with_a_colour_bar():
    X = images(3, 16)
    axes = explain.show_maps(X, torch.rand(3, 4, 4), titles=["a", "b", "c"])
    figure = axes[0].figure
    assert len(axes) == 3 and len(figure.axes) == 4  # three images and one colour bar
    assert len(axes[0].images) == 2  # the image and its map over it
    assert len(explain.show_filters(torch.randn(6, 1, 5, 5)).flat) == 8
    explain.show_feature_maps({"0": torch.rand(4, 8, 8), "1": torch.rand(3, 4, 4)}, n=4)
    explain.plot_embedding(np.random.rand(10, 2), torch.arange(10) % 3, ["a", "b", "c"])
    with pytest.raises(ValueError, match="one map per image"):
        explain.show_maps(X, torch.rand(2, 4, 4))
    plt.close("all")


# --- Bad input ---------------------------------------------------------------------------------------------

def test_an_unknown_layer_lists_the_valid_names_closest_first():
    net = ck.models.resnet18_d2l()
    with pytest.raises(ValueError, match=r"no layer '4.0.convv1'\. The closest names: '4.0.conv1', ") as error:
        explain.grad_cam(net, images(1, 32), "4.0.convv1")
    assert "top-level layers: '0', '1', '2', '3', '4', '5', '6', '7' (" in str(error.value)


def test_grad_cam_needs_a_layer_with_feature_maps():
    net = ck.models.lenet()
    with pytest.raises(ValueError, match=r"Grad-CAM needs a layer with feature maps.*'9' \(Linear\) gives "
                                         r"\(2, 84\)\. Layers with feature maps: '0', '1', '2', '3', '4', '5'"):
        explain.grad_cam(net, images(2, 28), "9")


def test_cam_needs_global_average_pooling():
    with pytest.raises(ValueError, match="global average pooling.*ends in Sigmoid, Linear, Sigmoid, Linear.*grad_cam"):
        explain.class_activation_map(ck.models.lenet(), images(1, 28))
    two_linears = nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 4),
                                nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="at most a flatten and one linear layer"):
        explain.class_activation_maps(two_linears, images(1, 8))


def test_a_batch_must_be_images_on_the_networks_device():
    net = gap_net()
    with pytest.raises(ValueError, match=r"the batch is on meta but the network is on cpu: move the batch with "
                                         r"X = X.to\('cpu'\)"):
        explain.saliency(net, torch.empty(2, 1, 8, 8, device="meta"))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got shape \(8, 8\); for one image use X\[None\]"):
        explain.grad_cam(net, torch.rand(8, 8), "6")
    with pytest.raises(TypeError, match="got ndarray"):
        explain.feature_maps(net, np.zeros((1, 1, 8, 8)), "0")
    with pytest.raises(ValueError, match=r"target must be one class in 0..2, or one per image \(2\)"):
        explain.class_activation_map(net, images(2, 8), target=[0, 1, 2])
