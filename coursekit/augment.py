"""Data augmentation on device-resident batches: a new random variant of every image, every epoch.

A network that sees the same 1,000 images twenty times learns them by heart;
shown a slightly different version each time (shifted, mirrored, with a patch
missing) it has to learn what stays the same. The three image operations
below act on a whole batch ``(B, C, H, W)`` at once but draw their random
numbers *per image*: torchvision's ``v2.RandomCrop`` and
``v2.RandomHorizontalFlip`` make one random choice per call, so given a batch
they would shift or flip all of its images alike.

* :func:`crop` -- random crop with zero padding: a shift of up to ``padding`` pixels (Krizhevsky
  et al. 2012; He et al. 2015 on CIFAR-10);
* :func:`flip` -- horizontal flip of a random half of the images;
* :func:`erase` -- random erasing: a box of random size and shape set to 0 (Zhong et al. 2017).

Each takes its random numbers from a ``torch.Generator`` on the CPU (so a seed
gives the same images on every device) and has a deterministic twin
(``crop_at``, ``flip_where``, ``erase_boxes``) that tests compare with
torchvision's functional ops applied image by image.

MixUp (Zhang et al. 2017) and CutMix (Yun et al. 2019) mix pairs of images
*and their labels*, so they belong to the training loop, which has the labels
and the loss: :func:`mixer` builds torchvision's ``v2.MixUp`` / ``v2.CutMix``
for :func:`coursekit.fit` (``TrainOptions(mix=...)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torchvision.transforms import v2

MIXES = ("mixup", "cutmix", "mixup_or_cutmix")


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def crop_at(X: torch.Tensor, padding: int, top: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """Pad every image with ``padding`` zeros, then cut ``(H, W)`` back out at ``(top[i], left[i])``.

    ``X`` ``(B, C, H, W)``; ``top``, ``left`` int ``(B,)`` in ``[0, 2 * padding]`` -> ``(B, C, H, W)``.
    ``top = left = padding`` gives the image back.
    """
    B, C, H, W = X.shape
    # Every window of the padded image as a view (no copy): (B, C, 2p + 1, 2p + 1, H, W); then one gather of
    # image i's window (top[i], left[i]).
    windows = torch.nn.functional.pad(X, (padding,) * 4).unfold(2, H, 1).unfold(3, W, 1)
    return windows[torch.arange(B, device=X.device), :, top.to(X.device), left.to(X.device)]


def crop(X: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """:func:`crop_at` at offsets drawn uniformly per image: a shift of up to ``padding`` pixels."""
    top, left = torch.randint(0, 2 * padding + 1, (2, len(X)), generator=generator)
    return crop_at(X, padding, top, left)


def flip_where(X: torch.Tensor, flipped: torch.Tensor) -> torch.Tensor:
    """``X`` ``(B, C, H, W)`` with the images where ``flipped`` (bool ``(B,)``) mirrored left-right."""
    return torch.where(flipped.to(X.device)[:, None, None, None], X.flip(-1), X)


def flip(X: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """:func:`flip_where` for a random share ``p`` of the images."""
    return flip_where(X, torch.rand(len(X), generator=generator) < p)


def erase_boxes(X: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Set box ``(top, left, height, width)`` = ``boxes[i]`` of image ``i`` to 0; a box of height 0 erases nothing.

    ``X`` ``(B, C, H, W)``; ``boxes`` int ``(B, 4)`` -> ``(B, C, H, W)``.
    """
    top, left, height, width = boxes.to(X.device).T[:, :, None, None, None]
    rows = torch.arange(X.shape[-2], device=X.device)[:, None]
    cols = torch.arange(X.shape[-1], device=X.device)[None, :]
    inside = (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)  # (B, 1, H, W)
    return X.masked_fill(inside, 0.0)


def random_boxes(n: int, size: tuple[int, int], p: float, generator: torch.Generator,
                 scale: tuple[float, float] = (0.02, 0.33), ratio: tuple[float, float] = (0.3, 3.3)) -> torch.Tensor:
    """``(n, 4)`` boxes ``(top, left, height, width)`` as torchvision's ``RandomErasing`` draws them.

    With probability ``p`` an image gets a box of area ``scale`` (a share of the image) and aspect
    ratio ``ratio`` (log-uniform), clipped to the image; otherwise a box of height 0. torchvision
    redraws a box that does not fit up to ten times; clipping keeps it one draw per image.
    """
    H, W = size
    area = _uniform(n, *scale, generator) * H * W
    aspect = torch.exp(_uniform(n, math.log(ratio[0]), math.log(ratio[1]), generator))
    height = torch.sqrt(area * aspect).round().clamp(1, H).long()
    width = torch.sqrt(area / aspect).round().clamp(1, W).long()
    top = (torch.rand(n, generator=generator) * (H - height + 1)).long()
    left = (torch.rand(n, generator=generator) * (W - width + 1)).long()
    height = torch.where(torch.rand(n, generator=generator) < p, height, 0)
    return torch.stack([top, left, height, width], dim=1)


def erase(X: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Random erasing: with probability ``p`` each image loses one box (see :func:`random_boxes`)."""
    return erase_boxes(X, random_boxes(len(X), tuple(X.shape[-2:]), p, generator))


@dataclass(frozen=True)
class Augment:
    """The augmentation of a training loader: ``load_data_fashion_mnist(..., augment=Augment())``.

    Attributes:
        padding: random crop with this much zero padding (a shift of up to ``padding`` pixels); 0: none.
        flip: mirror a random half of the images left-right.
        erase: probability that an image loses a random box (random erasing); 0: none.

    Called on a batch ``(B, C, H, W)`` of images in [0, 1] with a generator, it
    returns a batch of the same shape, dtype and device, every image changed
    by its own random draw.
    """

    padding: int = 2
    flip: bool = True
    erase: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.padding, int) and not isinstance(self.padding, bool) and 0 <= self.padding <= 64):
            raise ValueError(f"padding must be an int from 0 to 64 (pixels), got {self.padding!r}.")
        if not isinstance(self.flip, bool):
            raise ValueError(f"flip must be True or False, got {self.flip!r}.")
        if not (isinstance(self.erase, (int, float)) and not isinstance(self.erase, bool) and 0 <= self.erase <= 1):
            raise ValueError(f"erase must be a probability from 0 to 1, got {self.erase!r}.")

    def __call__(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.padding:
            X = crop(X, self.padding, generator)
        if self.flip:
            X = flip(X, generator)
        if self.erase:
            X = erase(X, self.erase, generator)
        return X

    def __str__(self) -> str:
        parts = [f"crop with {self.padding}-pixel padding"] if self.padding else []
        parts += ["horizontal flip"] if self.flip else []
        parts += [f"random erasing (p={self.erase:g})"] if self.erase else []
        return ", ".join(parts) or "no augmentation"


def mixer(kind: str, num_classes: int, alpha: float = 1.0) -> Callable[[torch.Tensor, torch.Tensor], tuple]:
    """torchvision's MixUp, CutMix or a random choice of the two, per batch: ``(X, y) -> (X', soft y')``.

    ``X`` ``(B, C, H, W)``, ``y`` int ``(B,)`` -> ``X'`` of the same shape and ``y'`` float
    ``(B, num_classes)`` whose rows sum to 1. The mixing weight is drawn from Beta(``alpha``, ``alpha``)
    with torch's global random state (seeded by ``TrainOptions.seed``).
    """
    if kind not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, got {kind!r}.")
    mixup, cutmix = v2.MixUp(alpha=alpha, num_classes=num_classes), v2.CutMix(alpha=alpha, num_classes=num_classes)
    return {"mixup": mixup, "cutmix": cutmix, "mixup_or_cutmix": v2.RandomChoice([mixup, cutmix])}[kind]


def augment_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``'s augmentation: independent of the shuffle's ``seed + epoch`` stream."""
    return int(torch.randint(0, 2**62, (1,), generator=torch.Generator().manual_seed(seed * 7919 + epoch + 1)))


__all__ = ["MIXES", "Augment", "augment_seed", "crop", "crop_at", "erase", "erase_boxes", "flip", "flip_where",
           "mixer", "random_boxes"]
