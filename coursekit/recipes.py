"""Recipes: how each chapter trains each model, in each profile, written down once.

A :class:`Recipe` is everything a training run needs besides the device: the
model and its constructor's arguments, the data (image size, normalisation,
how many images, batch size) and the training options (epochs, optimizer,
learning rate, schedule, initialisation, precision). The notebooks, the
``coursekit train`` command and ``benchmarks/train_speed.py`` all read their
settings from here, so the same words mean the same run::

    recipe = ck.recipe("alexnet")            # the profile in force ($COURSEKIT_PROFILE)
    print(recipe)                            # the settings, in words
    train_iter, test_iter = recipe.data()
    net = recipe.build()
    history = ck.fit(net, train_iter, test_iter, recipe.options())

Three profiles (:mod:`coursekit.config`): ``full`` is d2l's hyper-parameters
(the published runs of *Dive into Deep Learning*, d2l-zh 2.0, chapter 7), written once in :data:`D2L`;
``laptop`` is what each chapter trains on a CPU in minutes, and says why it
departs from d2l; ``smoke`` is the laptop recipe cut to seconds for CI.

Some recipes train a network the chapter itself defines (``model=None``): the
chapter builds the network and takes the rest of the recipe.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from .augment import Augment
from .config import PROFILES, get_profile, seed_everything
from .data import (MAX_RESIZE, TEST_IMAGES, TRAIN_IMAGES, load_data_fashion_mnist, load_fashion_mnist_classes,
                   load_fashion_mnist_validation, user_cache_dir)
from .models import MODELS, get_model
from .train import TrainOptions

_OPTION_FIELDS = ("num_epochs", "lr", "optimizer", "momentum", "weight_decay", "schedule", "label_smoothing", "mix",
                  "init", "precision", "channels_last")


def _positive_int_or_none(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


@dataclass(frozen=True)
class Recipe:
    """One chapter's way to train one model in one profile.

    Attributes:
        name: the recipe's name (``ck.recipe(name)``); ``profile``: smoke, laptop or full.
        model: a :data:`coursekit.models.MODELS` name, or None when the chapter defines the network;
            ``model_kwargs`` go to its constructor (``ratio=4``...).
        resize: image side the data is resized to (None: Fashion-MNIST's 28x28);
            ``normalize``: standardise the images instead of scaling them to [0, 1];
            ``classes``: train on these classes only, relabelled 0..k-1 (None: all ten).
        batch_size; n_train, n_test: a fixed random subset of that many images (None: all).
        validation: the "test" images are ``n_test`` training images held out from ``n_train``, for
            choosing hyper-parameters without looking at the test set.
        augment: a :class:`coursekit.augment.Augment` for the training images (None: none).
        num_epochs, lr, optimizer, momentum, weight_decay, schedule, label_smoothing, mix, init, precision,
        channels_last:
            the training options, as in :class:`coursekit.TrainOptions`. Precision and memory layout
            are ``'auto'`` unless a recipe says otherwise: measured on the learner's machine
            (:mod:`coursekit.fast_path`), fp32 unless bf16 is clearly faster there.
    """

    name: str
    profile: str
    model: str | None
    batch_size: int
    num_epochs: int
    lr: float
    model_kwargs: dict = field(default_factory=dict)
    resize: int | None = None
    normalize: bool = False
    classes: tuple[int, ...] | None = None
    validation: bool = False
    n_train: int | None = None
    n_test: int | None = None
    augment: Augment | None = None
    optimizer: str = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str | None = None
    label_smoothing: float = 0.0
    mix: str | None = None
    init: str | None = "xavier"
    precision: str | None = "auto"
    channels_last: bool | str = "auto"

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {self.profile!r}.")
        if self.model is not None and self.model not in MODELS:
            raise ValueError(f"recipe {self.name!r}: unknown model {self.model!r}.")
        if not (_positive_int_or_none(self.batch_size) and self.batch_size is not None):
            raise ValueError(f"recipe {self.name!r}: batch_size must be a positive int, got {self.batch_size!r}.")
        for name in ("n_train", "n_test"):
            if not _positive_int_or_none(getattr(self, name)):
                raise ValueError(f"recipe {self.name!r}: {name} must be None or a positive int, "
                                 f"got {getattr(self, name)!r}.")
        if (self.n_train or 0) > TRAIN_IMAGES or (self.n_test or 0) > (TRAIN_IMAGES if self.validation else TEST_IMAGES):
            raise ValueError(f"recipe {self.name!r}: Fashion-MNIST has {TRAIN_IMAGES:,} training and {TEST_IMAGES:,} "
                             f"test images; got n_train={self.n_train!r}, n_test={self.n_test!r}.")
        if self.n_train is not None and self.batch_size > self.n_train:
            raise ValueError(f"recipe {self.name!r}: a batch of {self.batch_size} is more than the {self.n_train} "
                             "training images; lower batch_size or raise n_train.")
        if self.validation and (self.n_train is None or self.n_test is None or self.classes is not None):
            raise ValueError(f"recipe {self.name!r}: a validation split needs n_train and n_test, and all classes.")
        if self.resize is not None and not (_positive_int_or_none(self.resize) and self.resize <= MAX_RESIZE):
            raise ValueError(f"recipe {self.name!r}: resize must be None or an int from 1 to {MAX_RESIZE}, "
                             f"got {self.resize!r}.")
        if self.augment is not None and (self.validation or self.classes is not None
                                         or not isinstance(self.augment, Augment)):
            raise ValueError(f"recipe {self.name!r}: augment must be a coursekit.augment.Augment, on all ten classes "
                             f"without a validation split; got {self.augment!r}.")
        self.options()  # validates the training options, with TrainOptions' messages

    def options(self, **changes) -> TrainOptions:
        """The training options of this recipe (``changes`` override some, e.g. ``checkpoint=``)."""
        settings = {name: getattr(self, name) for name in _OPTION_FIELDS}
        return TrainOptions(**{**settings, **changes})

    def data(self, device: torch.device | str | None = None, *, seed: int = 0, root=None):
        """``(train_iter, test_iter)``: the recipe's images, on ``device`` (default :func:`coursekit.try_gpu`)."""
        common = dict(n_train=self.n_train, n_test=self.n_test, normalize=self.normalize, seed=seed,
                      device=device, root=root)
        if self.validation:
            return load_fashion_mnist_validation(self.batch_size, self.n_train, self.n_test, self.resize,
                                                 normalize=self.normalize, seed=seed, device=device, root=root)
        if self.classes is not None:
            return load_fashion_mnist_classes(self.classes, self.batch_size, self.resize, **common)
        return load_data_fashion_mnist(self.batch_size, self.resize, augment=self.augment, **common)

    def build(self, seed: int | None = 0, **kwargs) -> nn.Module:
        """The recipe's network, built after seeding (its biases keep PyTorch's random init).

        ``kwargs`` are added to :attr:`model_kwargs`.
        """
        if self.model is None:
            raise ValueError(f"recipe {self.name!r} trains a network that its chapter defines: build that network "
                             "and take the data and options from the recipe.")
        if seed is not None:
            seed_everything(seed)
        return get_model(self.model, **{**self.model_kwargs, **kwargs})

    def trained_path(self) -> Path:
        """Where this recipe's trained network is kept: ``<user cache>/trained/<profile>/<name>.pt``.

        The profile is in the path, so a smoke run's weights are never taken for a laptop run's
        (:func:`coursekit.load_or_train` reads and writes it).
        """
        return user_cache_dir() / "trained" / self.profile / f"{self.name}.pt"

    def replace(self, **changes) -> "Recipe":
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def __str__(self) -> str:
        if self.model is None:
            network = "a network the chapter defines"
        else:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.model_kwargs.items())
            network = f"ck.models.{self.model}({arguments})"
        every = "all" if self.classes is None else "all the"
        train = f"{self.n_train:,}" if self.n_train else f"{every} {'60,000 ' if self.classes is None else ''}"
        test = f"{self.n_test:,}" if self.n_test else f"{every} {'10,000 ' if self.classes is None else ''}"
        held_out = "validation images (held out of the training set)" if self.validation else "test images"
        data = f"{train.strip()} training and {test.strip()} {held_out}"
        if self.classes is not None:
            data += f" of classes {list(self.classes)}"
        data += f" at {self.resize or 28}x{self.resize or 28}"
        if self.normalize:
            data += ", standardised"
        if self.augment:
            data += f", augmented ({self.augment})"
        data += f", batches of {self.batch_size}"
        training = [f"{self.num_epochs} epoch{'s' if self.num_epochs > 1 else ''} of {self.optimizer} "
                    f"at lr {self.lr:g}"]
        if self.momentum:
            training.append(f"momentum {self.momentum:g}")
        if self.weight_decay:
            training.append(f"weight decay {self.weight_decay:g}")
        training.append(f"{self.schedule} schedule" if self.schedule else "constant lr")
        if self.label_smoothing:
            training.append(f"label smoothing {self.label_smoothing:g}")
        if self.mix:
            training.append(self.mix.replace("_", " "))
        training.append(f"{self.init} init" if self.init else "the model's own init")
        training.append(f"precision {self.precision or 'fp32'}")
        layout = {True: "channels_last", False: "default layout", "auto": "layout auto"}[self.channels_last]
        training.append(layout)
        return (f"recipe {self.name!r} ({self.profile} profile): {network}\n"
                f"  data:     {data}\n"
                f"  training: {', '.join(training)}")

    __repr__ = __str__


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

# d2l's hyper-parameters (d2l-zh 2.0, PyTorch, chapter 7's published runs): plain SGD, Xavier
# init, 10 epochs on all 60,000 images. Model -> (lr, batch size, image side).
D2L = {
    "lenet": (0.9, 256, None),
    "bn_lenet_scratch": (1.0, 256, None),
    "bn_lenet": (1.0, 256, None),
    "alexnet": (0.01, 128, 224),
    "vgg11_narrow": (0.05, 128, 224),
    "nin": (0.1, 128, 224),
    "googlenet": (0.1, 128, 96),
    "resnet18_d2l": (0.05, 256, 96),
    "densenet": (0.1, 256, 96),
}


# What those runs reached after 10 epochs on a V100 GPU (d2l-zh 2.0.0, PyTorch): train loss, train and test
# accuracy (on all 10,000 test images) and training examples per second. Model -> (loss, train acc, test acc, /s).
D2L_RESULTS = {
    "lenet": (0.469, 0.823, 0.779, 55_297),
    "alexnet": (0.331, 0.878, 0.883, 3_942),
    "vgg11_narrow": (0.178, 0.935, 0.920, 2_464),
    "nin": (0.563, 0.786, 0.790, 3_088),
    "googlenet": (0.262, 0.900, 0.886, 3_266),
    "bn_lenet_scratch": (0.273, 0.899, 0.807, 32_294),
    "bn_lenet": (0.267, 0.902, 0.708, 50_597),
    "resnet18_d2l": (0.012, 0.997, 0.893, 5_033),
    "densenet": (0.140, 0.948, 0.885, 5_626),
}


def _d2l(model: str, **changes) -> Recipe:
    """The ``full`` recipe of ``model``: d2l's, with ``changes`` where the course departs from it."""
    lr, batch_size, resize = D2L[model]
    return Recipe(model, "full", model, batch_size=batch_size, num_epochs=10, lr=lr,
                  **{"resize": resize, **changes})


def _profiles(laptop: Recipe, full: Recipe, **smoke_changes) -> dict[str, Recipe]:
    """The three profiles of one recipe; ``smoke`` is ``laptop`` on 512 + 256 images for one epoch."""
    smoke = {"n_train": 512, "n_test": 256, "num_epochs": 1, **smoke_changes}
    return {"smoke": replace(laptop, profile="smoke", **smoke), "laptop": laptop, "full": full}


def _laptop(name: str, model: str | None, **settings) -> Recipe:
    return Recipe(name, "laptop", model, **settings)


# Adam with a one-cycle schedule: the laptop budget of the deep networks without BatchNorm is a few
# hundred steps, too few for d2l's plain SGD to leave the starting plateau.
_ADAM = dict(optimizer="adam", lr=0.002, schedule="onecycle")
# Momentum and a one-cycle schedule let the BatchNorm networks learn from a third of the images.
_ONECYCLE = dict(momentum=0.9, schedule="onecycle")

RECIPES: dict[str, dict[str, Recipe]] = {
    # Chapter 01. On a CPU, momentum lets the sigmoid LeNet converge within 10 epochs at a smaller lr.
    "lenet": _profiles(
        _laptop("lenet", "lenet", batch_size=128, num_epochs=10, lr=0.1, momentum=0.9),
        _d2l("lenet")),
    # LeNet with ReLU and max-pooling (chapters 01, 11): not in d2l's table; plain SGD at lr 0.1.
    "lenet_modern": _profiles(
        _laptop("lenet_modern", "lenet_modern", batch_size=128, num_epochs=5, lr=0.05, momentum=0.9),
        Recipe("lenet_modern", "full", "lenet_modern", batch_size=256, num_epochs=10, lr=0.1)),
    # Chapter 02: a quarter of the channels, a quarter of the images, momentum for the short budget. Every
    # laptop recipe of a training chapter tests on all 10,000 test images, as d2l does: evaluation is cheap.
    "alexnet": _profiles(
        _laptop("alexnet", "alexnet", model_kwargs={"ratio": 4}, resize=224, batch_size=128, n_train=15_000,
                num_epochs=3, lr=0.01, momentum=0.9),
        _d2l("alexnet")),
    # Chapter 03: VGG-11 with 1/8 of the channels at 96x96 (its head resized to match).
    "vgg11_narrow": _profiles(
        _laptop("vgg11_narrow", "vgg11_narrow", model_kwargs={"ratio": 8, "size": 96}, resize=96, batch_size=128,
                n_train=15_000, num_epochs=4, lr=0.01, momentum=0.9),
        _d2l("vgg11_narrow", model_kwargs={"ratio": 4})),
    # Chapter 04: half the channels at 96x96; He init with standardised images, where d2l's Xavier init
    # leaves NiN stuck near 10% (measured in chapter 04).
    "nin": _profiles(
        _laptop("nin", "nin", model_kwargs={"ratio": 2}, resize=96, normalize=True, batch_size=128, n_train=20_000,
                num_epochs=3, init="kaiming", **_ADAM),
        _d2l("nin", normalize=True, init="kaiming"),
        batch_size=64, n_train=256, n_test=128),
    # Chapter 05: a quarter of the channels at 64x64.
    "googlenet": _profiles(
        _laptop("googlenet", "googlenet", model_kwargs={"ratio": 4}, resize=64, normalize=True, batch_size=128,
                n_train=20_000, num_epochs=3, init="kaiming", **_ADAM),
        _d2l("googlenet", normalize=True, init="kaiming"),
        batch_size=64, n_train=256, n_test=128),
    # Chapter 06, which trains plain LeNet on the same recipe for comparison. A cosine schedule on the
    # laptop: at a constant lr 1.0 the test accuracy jumped from epoch to epoch.
    "bn_lenet_scratch": _profiles(
        _laptop("bn_lenet_scratch", "bn_lenet_scratch", batch_size=256, num_epochs=5, lr=1.0, schedule="cosine"),
        _d2l("bn_lenet_scratch"),
        batch_size=64),
    "bn_lenet": _profiles(
        _laptop("bn_lenet", "bn_lenet", batch_size=256, num_epochs=5, lr=1.0, schedule="cosine"),
        _d2l("bn_lenet"),
        batch_size=64),
    # Chapter 07: at 32x32, a ninth of the pixels.
    "resnet18_d2l": _profiles(
        _laptop("resnet18_d2l", "resnet18_d2l", resize=32, batch_size=128, n_train=20_000, num_epochs=3, lr=0.05,
                **_ONECYCLE),
        _d2l("resnet18_d2l"),
        batch_size=64, n_train=256, n_test=128),
    # Chapter 08: at 48x48.
    "densenet": _profiles(
        _laptop("densenet", "densenet", resize=48, batch_size=128, n_train=20_000, num_epochs=3, lr=0.1,
                **_ONECYCLE),
        _d2l("densenet"),
        resize=32, batch_size=64, n_train=256, n_test=128),
    # Chapter 00: the hand-written loop (an MLP) and a tiny CNN the chapter builds.
    "tiny_cnn": _profiles(
        _laptop("tiny_cnn", None, batch_size=128, n_train=20_000, num_epochs=3, lr=0.02, momentum=0.9),
        Recipe("tiny_cnn", "full", None, batch_size=256, num_epochs=10, lr=0.02, momentum=0.9),
        n_train=1024, n_test=512),
    # Chapter 09: the four small networks of the shift experiment.
    "small_cnn": _profiles(
        _laptop("small_cnn", None, batch_size=128, n_train=20_000, n_test=2_000, num_epochs=3, init="kaiming",
                **_ADAM),
        Recipe("small_cnn", "full", None, batch_size=128, num_epochs=10, init="kaiming", **_ADAM)),
    # Chapter 11, section 2: DenseNet trained twice, in fp32 and bf16 (the chapter sets the precision of
    # each run), in one memory layout so that only the precision differs.
    "mixed_precision": _profiles(
        _laptop("mixed_precision", "densenet", resize=32, normalize=True, batch_size=128, n_train=5_000,
                n_test=1_000, num_epochs=2, precision=None, channels_last=False, **_ADAM),
        Recipe("mixed_precision", "full", "densenet", resize=96, normalize=True, batch_size=128, num_epochs=2,
               precision=None, channels_last=False, **_ADAM),
        n_train=256, n_test=128),
    # Chapter 11, section 3: the learning-rate sweep (the chapter sets each lr; the test images are a
    # validation split of the training set), then the final run on training + validation images.
    "lr_sweep": _profiles(
        _laptop("lr_sweep", "lenet_modern", validation=True, batch_size=128, n_train=10_000, n_test=2_000,
                num_epochs=2, lr=0.1, momentum=0.9),
        Recipe("lr_sweep", "full", "lenet_modern", validation=True, batch_size=128, n_train=50_000, n_test=10_000,
               num_epochs=5, lr=0.1, momentum=0.9)),
    "lr_sweep_final": _profiles(
        _laptop("lr_sweep_final", "lenet_modern", batch_size=128, n_train=12_000, num_epochs=4, lr=0.1,
                momentum=0.9),
        Recipe("lr_sweep_final", "full", "lenet_modern", batch_size=128, num_epochs=10, lr=0.1, momentum=0.9),
        n_train=768),
    # Chapter 11, section 4: transfer learning from five classes to the other five.
    "transfer_source": _profiles(
        _laptop("transfer_source", "lenet_modern", model_kwargs={"num_classes": 5}, classes=(0, 2, 3, 5, 8),
                batch_size=128, n_train=15_000, n_test=2_000, num_epochs=2, lr=0.05, momentum=0.9),
        Recipe("transfer_source", "full", "lenet_modern", model_kwargs={"num_classes": 5}, classes=(0, 2, 3, 5, 8),
               batch_size=128, num_epochs=10, lr=0.05, momentum=0.9)),
    "transfer_target": _profiles(
        _laptop("transfer_target", "lenet_modern", model_kwargs={"num_classes": 5}, classes=(1, 4, 6, 7, 9),
                batch_size=32, n_train=200, n_test=2_000, num_epochs=15, lr=0.03, momentum=0.9, schedule="cosine"),
        Recipe("transfer_target", "full", "lenet_modern", model_kwargs={"num_classes": 5}, classes=(1, 4, 6, 7, 9),
               batch_size=32, n_train=200, num_epochs=15, lr=0.03, momentum=0.9, schedule="cosine"),
        n_train=200, num_epochs=2),
    # Chapter 11, section 6: every chapter model on one budget; resize is the common image side. fp32 for
    # all, so that the speed column compares the architectures, not how each suits bf16 kernels.
    "capstone": _profiles(
        _laptop("capstone", None, resize=32, normalize=True, batch_size=64, n_train=5_000, n_test=2_000,
                num_epochs=3, precision=None, **_ADAM),
        Recipe("capstone", "full", None, resize=96, normalize=True, batch_size=128, num_epochs=10, precision=None,
               **_ADAM),
        n_train=256, n_test=128),
    # Chapter 13: a ResNet-18 with the small-image stem learns 512 images by heart (the chapter adds one
    # regulariser at a time to this recipe). 8 channels wide so that 33 runs fit the laptop budget; fp32 and
    # the default layout fixed, so that no run spends time measuring them.
    "overfit": _profiles(
        _laptop("overfit", "resnet18_small", model_kwargs={"width": 8}, batch_size=32, n_train=512, n_test=500,
                num_epochs=20, lr=0.05, momentum=0.9, init="kaiming", precision=None, channels_last=False),
        Recipe("overfit", "full", "resnet18_small", batch_size=32, n_train=512, num_epochs=60, lr=0.05,
               momentum=0.9, init="kaiming"),
        n_train=128, n_test=128, num_epochs=2),
    # Chapter 13's combined recipe, trained on all the images: crop and flip, weight decay, label smoothing
    # and a one-cycle schedule (which warms up, so a larger peak lr).
    "strong_recipe": _profiles(
        _laptop("strong_recipe", "resnet18_small", model_kwargs={"width": 8}, batch_size=64, num_epochs=2,
                augment=Augment(padding=2, flip=True), lr=0.1, momentum=0.9, weight_decay=5e-4, label_smoothing=0.1,
                schedule="onecycle", init="kaiming", precision=None, channels_last=False),
        Recipe("strong_recipe", "full", "resnet18_small", batch_size=128, num_epochs=30,
               augment=Augment(padding=2, flip=True), lr=0.1, momentum=0.9, weight_decay=5e-4, label_smoothing=0.1,
               schedule="onecycle", init="kaiming"),
        n_train=512, n_test=256),
}


def recipe(name: str, profile: str | None = None) -> Recipe:
    """The recipe ``name`` in ``profile`` (default: the profile in force, :func:`coursekit.get_profile`).

    >>> print(recipe("alexnet", "laptop"))  # doctest: +SKIP
    """
    profile = get_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}.")
    if name not in RECIPES:
        close = difflib.get_close_matches(str(name), RECIPES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"No recipe {name!r}.{hint} Recipes: {', '.join(RECIPES)}.")
    return RECIPES[name][profile]


def trainable_models() -> list[str]:
    """The models with a recipe of their own (named after them), in the order of the course."""
    return [name for name in RECIPES if name in MODELS]


__all__ = ["D2L", "D2L_RESULTS", "RECIPES", "Recipe", "recipe", "trainable_models"]
