"""On-device augmentation: per image, seeded, shape- and device-preserving, equal to torchvision image by image;
MixUp/CutMix and label smoothing through fit."""

import math

import pytest
import torch
from torch import nn
from torchvision.transforms.v2 import functional as TF

import coursekit as ck
from coursekit.augment import Augment, crop, crop_at, erase, erase_boxes, flip, flip_where, mixer, random_boxes
from coursekit.train import TrainOptions, fit

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def batch(n=16, side=12):
    return torch.rand(n, 1, side, side, generator=torch.Generator().manual_seed(1)) + 0.1  # no zero pixel


def test_crop_at_equals_torchvision_pad_then_crop_image_by_image():
    X, p = batch(), 3
    top, left = torch.randint(0, 2 * p + 1, (2, len(X)), generator=torch.Generator().manual_seed(2))
    ours = crop_at(X, p, top, left)
    for i in range(len(X)):
        theirs = TF.crop(TF.pad(X[i], [p]), int(top[i]), int(left[i]), 12, 12)
        torch.testing.assert_close(ours[i], theirs, rtol=0, atol=0)
    torch.testing.assert_close(crop_at(X, p, torch.full((16,), p), torch.full((16,), p)), X)


def test_flip_where_equals_torchvision_horizontal_flip():
    X = batch()
    flipped = torch.arange(16) % 3 == 0
    ours = flip_where(X, flipped)
    for i in range(16):
        torch.testing.assert_close(ours[i], TF.horizontal_flip(X[i]) if flipped[i] else X[i], rtol=0, atol=0)


def test_erase_boxes_equals_torchvision_erase_and_height_zero_erases_nothing():
    X = batch(4)
    boxes = torch.tensor([[0, 0, 3, 5], [2, 7, 10, 5], [5, 5, 0, 4], [11, 0, 1, 12]])
    ours = erase_boxes(X, boxes)
    for i, (t, l, h, w) in enumerate(boxes.tolist()):
        theirs = TF.erase(X[i], t, l, h, w, torch.tensor(0.0)) if h else X[i]
        torch.testing.assert_close(ours[i], theirs, rtol=0, atol=0)


def test_random_boxes_fit_the_image_and_follow_p():
    g = torch.Generator().manual_seed(0)
    boxes = random_boxes(2000, (28, 20), 0.3, g)
    top, left, h, w = boxes.T
    erased = h > 0
    assert 0.25 < erased.float().mean() < 0.35
    assert (top + h <= 28).all() and (left + w <= 20).all() and (top >= 0).all() and (left >= 0).all()
    area = (h * w)[erased].float() / (28 * 20)
    assert area.min() > 0.005 and area.max() < 0.5  # torchvision's scale (0.02, 0.33), after rounding


@pytest.mark.parametrize("device", DEVICES)
def test_augment_keeps_shape_dtype_and_device_and_is_per_image(device):
    X = torch.rand(1, 1, 28, 28).repeat(64, 1, 1, 1).to(device)  # 64 copies of one image
    out = Augment(padding=4, flip=True, erase=0.5)(X, torch.Generator().manual_seed(0))
    assert out.shape == X.shape and out.dtype == X.dtype and out.device == X.device
    distinct = {tuple(img.flatten().tolist()) for img in out.cpu()}
    assert len(distinct) > 32, "the copies must get different crops, flips and boxes"
    for op in (lambda g: crop(X, 4, g), lambda g: flip(X, g), lambda g: erase(X, 0.5, g)):
        out = op(torch.Generator().manual_seed(3)).cpu()
        assert len({tuple(img.flatten().tolist()) for img in out}) >= 2, "one draw for the whole batch"


def test_augment_is_seeded():
    X = batch(8)
    a = Augment(2, True, 0.5)
    same = a(X, torch.Generator().manual_seed(5)), a(X, torch.Generator().manual_seed(5))
    torch.testing.assert_close(*same, rtol=0, atol=0)
    assert not torch.equal(a(X, torch.Generator().manual_seed(6)), same[0])


@pytest.mark.parametrize("bad", [dict(padding=-1), dict(padding=1.5), dict(flip=1), dict(erase=1.5),
                                 dict(erase=True)])
def test_augment_refuses_bad_settings(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        Augment(**bad)


def test_the_loader_augments_training_images_reproducibly_and_never_the_test_set():
    aug = Augment(padding=2, flip=True, erase=0.25)
    train, test = ck.load_data_fashion_mnist(32, n_train=64, n_test=64, augment=aug, seed=3)
    plain_train, plain_test = ck.load_data_fashion_mnist(32, n_train=64, n_test=64, seed=3)
    assert test.augment is None
    for (X, y), (X0, y0) in zip(test, plain_test):
        assert torch.equal(X, X0) and torch.equal(y, y0)
    first = [X for X, _ in train]
    second = [X for X, _ in train]
    plain = [X for X, _ in plain_train]
    assert not torch.equal(first[0], plain[0]) and not torch.equal(first[0], second[0])  # epochs differ
    again, _ = ck.load_data_fashion_mnist(32, n_train=64, n_test=64, augment=aug, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, (X for X, _ in again)))  # the same seed, the same images
    assert torch.equal(train.peek()[0], next(iter(train))[0])  # peek shows what the epoch will serve
    assert "augment: crop" in repr(train)
    with pytest.raises(TypeError, match="Augment"):
        ck.DeviceLoader(X, y, 8, shuffle=True, augment="flip")


def test_recipes_carry_augmentation_to_the_training_loader_only():
    recipe = ck.recipe("strong_recipe", "smoke")
    train, test = recipe.data("cpu")
    assert train.augment == recipe.augment and test.augment is None
    with pytest.raises(ValueError, match="augment"):
        ck.recipe("lr_sweep", "smoke").replace(augment=Augment())


@pytest.mark.parametrize("kind", ["mixup", "cutmix", "mixup_or_cutmix"])
def test_mixed_labels_are_soft_and_sum_to_one(kind):
    torch.manual_seed(0)
    X, y = batch(16), torch.arange(16) % 10
    Xm, soft = mixer(kind, num_classes=10)(X, y)
    assert Xm.shape == X.shape and soft.shape == (16, 10)
    torch.testing.assert_close(soft.sum(dim=1), torch.ones(16))
    assert (soft.max(dim=1).values < 1).any(), "some labels must be mixed"
    with pytest.raises(ValueError, match="mix must be one of"):
        mixer("mixdown", 10)


def tiny_problem(n=64):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, 1, 4, 4, generator=g)
    y = (X.mean(dim=(1, 2, 3)) > 0.5).long()
    X[:, 0, 0, 0] = 4.0 * y - 2  # a wide margin: a linear layer can be right, and sure of it
    return [(X[i:i + 16], y[i:i + 16]) for i in range(0, n, 16)]


def tiny_net():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


@pytest.mark.parametrize("changes", [dict(mix="mixup"), dict(mix="cutmix", label_smoothing=0.1),
                                     dict(label_smoothing=0.2), dict(schedule="step")])
def test_fit_trains_with_soft_targets_label_smoothing_and_the_step_schedule(changes):
    data = tiny_problem()
    options = TrainOptions(num_epochs=2, lr=0.1, **changes)
    history = fit(tiny_net(), data, data, options, "cpu", reporters=[])
    assert len(history) == 2 and all(0 <= a <= 1 for a in history.train_acc)
    again = fit(tiny_net(), data, data, options, "cpu", reporters=[])
    assert history.train_loss == again.train_loss  # seeded: mixing draws included


def test_label_smoothing_keeps_the_loss_above_the_entropy_of_the_smoothed_targets():
    # Two classes, smoothing 0.3: targets (0.85, 0.15), whose entropy 0.423 is the least cross-entropy can reach.
    data, floor = tiny_problem(), -(0.85 * math.log(0.85) + 0.15 * math.log(0.15))
    plain = fit(tiny_net(), data, data, TrainOptions(num_epochs=30, lr=2.0), "cpu", reporters=[])
    smooth = fit(tiny_net(), data, data, TrainOptions(num_epochs=30, lr=2.0, label_smoothing=0.3), "cpu",
                 reporters=[])
    assert plain.train_loss[-1] < floor - 0.05 and smooth.train_loss[-1] > floor


def test_the_step_schedule_divides_the_lr_by_ten_twice():
    net, data = tiny_net(), tiny_problem()  # 4 batches: 8 steps in 2 epochs, a tenth after 4 and 6
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    lrs = []
    opt.register_step_pre_hook(lambda optimizer, args, kwargs: lrs.append(optimizer.param_groups[0]["lr"]))
    fit(net, data, data, TrainOptions(num_epochs=2, lr=1.0, optimizer=opt, schedule="step", init=None), "cpu",
        reporters=[])
    assert lrs == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01])


@pytest.mark.parametrize("bad", [dict(label_smoothing=1.0), dict(label_smoothing=-0.1), dict(mix="mix")])
def test_train_options_refuse_bad_smoothing_and_mixing(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        TrainOptions(num_epochs=1, lr=0.1, **bad)
