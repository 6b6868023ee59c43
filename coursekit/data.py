"""Fashion-MNIST, found wherever it is, held on the training device.

The d2l loader decodes every image with PIL and resizes it in worker
processes; on a CPU that costs more than a small network's training step. Here
the 70,000 images live as one ``uint8`` tensor on the device, batches are
indexed from a seeded permutation, and resizing happens on whole batches with
``torchvision.transforms.v2.functional.resize``.

Where the data comes from: the ``root`` argument if one is given, else
``$COURSEKIT_DATA`` if it is set -- only there, because the user asked for
that place, with a download into it if it is empty. Otherwise, in order:

1. the user cache (``$XDG_CACHE_HOME/coursekit`` or ``~/.cache/coursekit``),
2. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``),
3. a download through torchvision into the user cache.

A download that gets no answer for ``$COURSEKIT_DOWNLOAD_TIMEOUT`` seconds
(default 30) gives up instead of hanging.

Every file is checked against the SHA-256 of its *decompressed* bytes, so a
recompressed copy (Debian's) passes and a truncated or altered one does not.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from .augment import Augment, augment_seed
from .config import check_device
from .download import TIMEOUT_ENV, download_fashion_mnist, download_timeout

DATA_ENV = "COURSEKIT_DATA"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

# SHA-256 and size of the decompressed IDX files, identical to the upstream release.
FILES = {
    "train-images-idx3-ubyte": ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
    "train-labels-idx1-ubyte": ("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
    "t10k-images-idx3-ubyte": ("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
    "t10k-labels-idx1-ubyte": ("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
}

TEXT_LABELS = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)

# Mean and standard deviation of the training images, for `normalize=True`.
_MEAN, _STD = 0.2860, 0.3530

MAX_RESIZE = 1024
TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000


class DatasetNotFoundError(FileNotFoundError):
    """Fashion-MNIST is in none of the places searched and could not be downloaded."""


class CorruptFileError(OSError):
    """A Fashion-MNIST file exists but its content is not the published one."""


def user_cache_dir() -> Path:
    """Where downloads go: ``$XDG_CACHE_HOME/coursekit`` or ``~/.cache/coursekit``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "coursekit"


def _asked(root: str | os.PathLike | None) -> str | None:
    """How the user named the one folder to use (``root=...`` or ``$COURSEKIT_DATA=...``); None: search."""
    if root is not None:
        return f"root={str(root)!r}"
    if os.environ.get(DATA_ENV):
        return f"${DATA_ENV}={os.environ[DATA_ENV]}"
    return None


def _search_dirs(root: str | os.PathLike | None) -> list[Path]:
    if root is not None:
        dirs = [Path(root).expanduser()]
    elif os.environ.get(DATA_ENV):
        dirs = [Path(os.environ[DATA_ENV]).expanduser()]
    else:
        dirs = [user_cache_dir(), SYSTEM_DIR]
    # torchvision keeps its files under <root>/FashionMNIST/raw; accept that layout too.
    return [d for base in dirs for d in (base, base / "FashionMNIST" / "raw")]


def file_in(directory: Path, name: str) -> Path | None:
    """The file ``name`` (one of :data:`FILES`) in ``directory``, compressed or not; None if absent."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _complete_dir(directories: Sequence[Path]) -> Path | None:
    for directory in directories:
        if all(file_in(directory, name) for name in FILES):
            return directory
    return None


def _not_found_message(searched: Sequence[Path], download_error: str | None, asked: str | None = None) -> str:
    places = "\n".join(f"  - {d}" for d in searched)
    why = f"\nThe download failed: {download_error}" if download_error else ""
    if asked:
        undo = "drop root=" if asked.startswith("root=") else f"unset {DATA_ENV}"
        return (f"Fashion-MNIST is not in the folder you asked for ({asked}). Searched:\n{places}{why}\n"
                f"Copy the four IDX files (.gz or not) there, connect to the internet to download them into it, or "
                f"{undo} to let coursekit look in its usual places.")
    return (
        "Fashion-MNIST was not found. Searched:\n"
        f"{places}{why}\n"
        "Get it one of three ways:\n"
        "  1. connect to the internet and run again: it downloads (about 30 MB) into "
        f"{user_cache_dir()};\n"
        "  2. on Debian/Ubuntu, offline: sudo apt-get install dataset-fashion-mnist;\n"
        f"  3. copy the four IDX files (.gz or not) to a folder and set {DATA_ENV}=/that/folder "
        "(or pass root=...)."
    )


def find_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return the folder that holds the four Fashion-MNIST files, downloading if needed.

    With ``root`` (or ``$COURSEKIT_DATA``) only that folder is used, and a
    download goes into it. Raises :class:`DatasetNotFoundError` listing every
    place searched and the ways to get the data when nothing is found and the
    download fails.
    """
    asked, searched = _asked(root), _search_dirs(root)
    if asked and searched[0].exists() and not searched[0].is_dir():
        raise DatasetNotFoundError(f"{asked} is a file, not a folder: point it at the folder that holds the four "
                                   "Fashion-MNIST files.")
    found = _complete_dir(searched)
    if found is not None:
        return found
    if not download:
        raise DatasetNotFoundError(_not_found_message(searched, "downloading was turned off", asked))
    timeout = download_timeout()
    try:
        download_fashion_mnist(searched[0] if asked else user_cache_dir(), timeout)
    except Exception as error:  # urllib, socket and torchvision errors all mean the same here
        reason = f"{type(error).__name__}: {error}"
        if isinstance(error, TimeoutError) or "timed out" in str(error):
            reason += f" (no answer within {timeout:g} s; set {TIMEOUT_ENV} to wait longer)"
        raise DatasetNotFoundError(_not_found_message(searched, reason, asked)) from error
    found = _complete_dir(_search_dirs(root))
    if found is None:
        raise DatasetNotFoundError(_not_found_message(searched, "the download left no complete copy", asked))
    return found


def _read_verified(path: Path, name: str) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except PermissionError as error:
        raise PermissionError(f"cannot read {path}: {error.strerror or 'permission denied'}; make it readable "
                              f"(chmod a+r {path}) or set {DATA_ENV} to a copy you can read.") from None
    except (OSError, EOFError) as error:
        raise CorruptFileError(
            f"{path} is not a readable {'gzip ' if path.suffix == '.gz' else ''}file ({error}). "
            "Delete it and run again to fetch a fresh copy."
        ) from error
    expected_sha, expected_size = FILES[name]
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha:
        raise CorruptFileError(
            f"{path} failed its checksum: {len(data):,} bytes with SHA-256 {digest[:16]}..., "
            f"expected {expected_size:,} bytes with SHA-256 {expected_sha[:16]}... "
            "The file is damaged or not Fashion-MNIST; delete it and run again to fetch a fresh copy."
        )
    return data


def _parse_idx(data: bytes) -> np.ndarray:
    # IDX header: 2 zero bytes, a type code (0x08 = uint8), the number of dims, then big-endian int32 sizes.
    ndim = data[3]
    shape = np.frombuffer(data, dtype=">i4", count=ndim, offset=4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


# Images read so far, by folder and split: a notebook that loads the data ten times reads it once.
_loaded: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}


def forget_loaded_data() -> None:
    """Empty the in-memory copy of the files read so far; the next load reads them from disk again."""
    _loaded.clear()



def read_fashion_mnist(split: str, root: str | os.PathLike | None = None, download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, 1, 28, 28)`` uint8 and labels ``(N,)`` int64 of ``split`` ('train' or 'test')."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    directory = find_fashion_mnist(root, download)
    key = (str(directory.resolve()), split)
    if key not in _loaded:
        prefix = "train" if split == "train" else "t10k"
        images, labels = (
            _parse_idx(_read_verified(file_in(directory, f"{prefix}-{kind}"), f"{prefix}-{kind}"))
            for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
        )
        _loaded[key] = (
            torch.from_numpy(images.copy()).unsqueeze(1),
            torch.from_numpy(labels.astype(np.int64)),
        )
    return _loaded[key]


def _check_resize(resize) -> tuple[int, int] | None:
    if resize is None:
        return None
    size = (resize, resize) if isinstance(resize, int) else tuple(resize) if isinstance(resize, Sequence) else None
    if (
        size is None
        or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_RESIZE for s in size)
    ):
        raise ValueError(
            f"resize must be None, an int or a (height, width) pair of ints from 1 to {MAX_RESIZE}; "
            f"got {resize!r}. The chapters use 28 (LeNet), 96 (GoogLeNet, ResNet, DenseNet) and 224 (AlexNet, VGG, NiN)."
        )
    return size


def check_count(value, name: str, maximum: int) -> int:
    """``value`` if it is an int from 1 to ``maximum`` (None gives ``maximum``); else ``ValueError`` naming ``name``."""
    if value is None:
        return maximum
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise ValueError(f"{name} must be an int from 1 to {maximum:,}, got {value!r}.")
    return value


class DeviceLoader:
    """Batches of an image tensor that lives on the device: ``(X, y)`` per step.

    ``X`` is float32 ``(B, C, H, W)`` in [0, 1] (or standardised with
    ``normalize=True``), resized on the device when ``resize`` is given; ``y``
    is int64 ``(B,)``. With ``shuffle=True`` epoch ``e`` uses the permutation
    seeded by ``seed + e``, so a run is reproducible and epochs differ.
    ``augment`` (a :class:`coursekit.augment.Augment`) changes every image of
    every batch by its own random draw, from a generator seeded per epoch
    the same way (:func:`coursekit.augment.augment_seed`), before ``normalize``.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool,
        resize: tuple[int, int] | None = None,
        normalize: bool = False,
        seed: int = 0,
        device: torch.device | str | None = None,
        augment: Augment | None = None,
    ) -> None:
        if augment is not None and not isinstance(augment, Augment):
            raise TypeError(f"augment must be None or a coursekit.augment.Augment, got {type(augment).__name__}.")
        self.device = check_device(device)
        self.augment = augment
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.resize = resize
        self.normalize = normalize
        self.seed = seed
        self.epoch = 0
        self.rank, self.world_size, self.drop_last = 0, 1, False

    @property
    def num_examples(self) -> int:
        return len(self.labels)

    @property
    def image_size(self) -> tuple[int, int]:
        """``(H, W)`` of the batches' images."""
        return self.resize or tuple(self.images.shape[-2:])

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def shard(self, rank: int, world_size: int, drop_last: bool) -> "DeviceLoader":
        """This process's share of every batch, for training with several processes.

        Every process draws the same permutation and takes slice ``rank`` of
        each batch, so together they see the same global batches as one
        process would. ``drop_last`` drops a last batch smaller than
        ``batch_size`` (the training set, so that every process takes the same
        number of equal steps); otherwise it is split as evenly as it goes.
        """
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}.")
        if drop_last and self.batch_size % world_size:
            raise ValueError(
                f"batch_size={self.batch_size} does not split evenly over {world_size} processes; "
                f"use a multiple of {world_size}."
            )
        shard = copy.copy(self)
        shard.rank, shard.world_size, shard.drop_last = rank, world_size, drop_last
        return shard

    def _order(self) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(self.num_examples, device=self.device)
        # Drawn on the CPU so the order is the same on every device.
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(self.num_examples, generator=generator).to(self.device)

    def _generator(self) -> torch.Generator | None:
        return torch.Generator().manual_seed(augment_seed(self.seed, self.epoch)) if self.augment else None

    def _batch(self, index: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        X = self.images[index].float().div_(255)
        if self.resize is not None and tuple(X.shape[-2:]) != self.resize:
            X = TF.resize(X, list(self.resize), antialias=True)
        if self.augment is not None:
            X = self.augment(X, generator)
        if self.normalize:
            X = (X - _MEAN) / _STD
        return X, self.labels[index]

    def peek(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first batch of the next epoch, without starting that epoch (its shuffle stays as it would be)."""
        index = self._order()[: self.batch_size]
        if self.world_size > 1:
            index = torch.tensor_split(index, self.world_size)[self.rank]
        return self._batch(index, self._generator())

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order, generator = self._order(), self._generator()
        self.epoch += 1
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start : start + self.batch_size]
            if self.world_size > 1:
                index = torch.tensor_split(index, self.world_size)[self.rank]
            yield self._batch(index, generator)

    def __repr__(self) -> str:
        size = "x".join(map(str, self.image_size))
        augment = f", augment: {self.augment}" if self.augment else ""
        return (
            f"DeviceLoader({self.num_examples} images at {size}, batch_size={self.batch_size}, "
            f"{len(self)} batches, shuffle={self.shuffle}{augment}, device={self.device})"
        )


def subset_indices(total: int, n: int, seed: int) -> torch.Tensor:
    """The ``n`` of ``total`` examples that ``load_data_fashion_mnist(n_train=n, seed=seed)`` uses."""
    if n == total:
        return torch.arange(total)
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n]


def _subset(images: torch.Tensor, labels: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    if n == len(labels):
        return images, labels
    index = subset_indices(len(labels), n, seed)
    return images[index], labels[index]


def load_data_fashion_mnist(
    batch_size: int,
    resize: int | tuple[int, int] | None = None,
    *,
    root: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    normalize: bool = False,
    seed: int = 0,
    download: bool = True,
    augment: Augment | None = None,
) -> tuple[DeviceLoader, DeviceLoader]:
    """Fashion-MNIST as ``(train_iter, test_iter)``, with d2l's call shape.

    Args:
        batch_size: images per batch, 1 to the number of training images.
        resize: side (or ``(height, width)``) to resize to, on the device; None keeps 28x28.
        root: a folder to look in first (see the module docstring for the search order).
        device: where the images live and batches are made; default :func:`try_gpu`.
        n_train, n_test: use a fixed random subset of this many images (the profiles' small runs).
        normalize: standardise with the training set's mean and std instead of scaling to [0, 1].
        seed: seeds the subset and the per-epoch shuffling of the training set.
        download: allow a download through torchvision when no local copy exists.
        augment: a :class:`coursekit.augment.Augment` for the training images (per image, seeded
            by ``seed`` and the epoch); the test images are never augmented.
    """
    train_images, train_labels = read_fashion_mnist("train", root, download)
    test_images, test_labels = read_fashion_mnist("test", root, download)
    n_train = check_count(n_train, "n_train", len(train_labels))
    n_test = check_count(n_test, "n_test", len(test_labels))
    batch_size = check_count(batch_size, "batch_size", n_train)
    size = _check_resize(resize)
    options = dict(resize=size, normalize=normalize, seed=seed, device=device)
    train_iter = DeviceLoader(*_subset(train_images, train_labels, n_train, seed), batch_size, shuffle=True,
                              augment=augment, **options)
    test_iter = DeviceLoader(*_subset(test_images, test_labels, n_test, seed), batch_size, shuffle=False, **options)
    return train_iter, test_iter


def load_fashion_mnist_classes(
    classes: Sequence[int],
    batch_size: int,
    resize: int | tuple[int, int] | None = None,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    normalize: bool = False,
    seed: int = 0,
    device: torch.device | str | None = None,
    root: str | os.PathLike | None = None,
) -> tuple[DeviceLoader, DeviceLoader]:
    """Fashion-MNIST restricted to ``classes``, relabelled ``0 .. len(classes) - 1``.

    ``classes[i]`` becomes label ``i``, so a network with ``len(classes)``
    outputs can be trained on them; ``loader.class_names`` holds their names.
    ``n_train`` / ``n_test`` take a fixed random subset (seeded by ``seed``)
    of the images of these classes. Otherwise as :func:`load_data_fashion_mnist`.

    >>> train_iter, test_iter = load_fashion_mnist_classes([5, 7, 9], 64)  # the three kinds of shoe
    """
    classes = list(classes)
    if (not classes or len(set(classes)) != len(classes)
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 10 for c in classes)):
        raise ValueError(f"classes must be distinct ints from 0 to 9, got {classes!r}.")
    batch_size = check_count(batch_size, "batch_size", TRAIN_IMAGES)
    options = dict(resize=_check_resize(resize), normalize=normalize, seed=seed, device=device)
    relabel = torch.full((10,), -1, dtype=torch.int64)
    relabel[torch.tensor(classes)] = torch.arange(len(classes))
    loaders = []
    for split, n, shuffle in (("train", n_train, True), ("test", n_test, False)):
        images, labels = read_fashion_mnist(split, root)
        index = torch.isin(labels, torch.tensor(classes)).nonzero().squeeze(1)
        n = check_count(n, f"n_{split}", len(index))
        index = index[subset_indices(len(index), n, seed)].sort().values
        loader = DeviceLoader(images[index], relabel[labels[index]], min(batch_size, n), shuffle=shuffle, **options)
        loader.class_names = [TEXT_LABELS[c] for c in classes]
        loaders.append(loader)
    return loaders[0], loaders[1]


def load_fashion_mnist_validation(
    batch_size: int,
    n_train: int,
    n_valid: int,
    resize: int | tuple[int, int] | None = None,
    *,
    normalize: bool = False,
    seed: int = 0,
    device: torch.device | str | None = None,
    root: str | os.PathLike | None = None,
) -> tuple[DeviceLoader, DeviceLoader]:
    """``(train_iter, valid_iter)``: two disjoint random subsets of the *training* images.

    For choosing hyper-parameters without looking at the test set: tune on
    ``valid_iter``, then report the chosen setting's test accuracy once.
    Both subsets are drawn from one seeded permutation of the 60,000 training
    images (``n_train + n_valid <= 60,000``).
    """
    images, labels = read_fashion_mnist("train", root)
    n_train = check_count(n_train, "n_train", len(labels) - 1)
    n_valid = check_count(n_valid, "n_valid", len(labels) - n_train)
    batch_size = check_count(batch_size, "batch_size", n_train)
    options = dict(resize=_check_resize(resize), normalize=normalize, seed=seed, device=device)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    train, valid = order[:n_train], order[n_train:n_train + n_valid]
    return (DeviceLoader(images[train], labels[train], batch_size, shuffle=True, **options),
            DeviceLoader(images[valid], labels[valid], min(batch_size, n_valid), shuffle=False, **options))


def get_fashion_mnist_labels(labels) -> list[str]:
    """Text labels ('t-shirt', 'trouser', ...) for integer class indices."""
    return [TEXT_LABELS[int(i)] for i in labels]
