"""Plots for :mod:`coursekit.explain`: maps over images, filters, feature maps and embeddings, with colour bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from torch.nn import functional as F


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, h, w)`` maps resized (bilinearly) to the images' ``size = (H, W)``: ``(N, H, W)``."""
    return F.interpolate(maps[:, None].float(), size=size, mode="bilinear", align_corners=False)[:, 0]


def _gray(images: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)`` images for display: the channels averaged (Fashion-MNIST has one)."""
    images = images.detach().cpu().float()
    return images.mean(dim=1) if images.dim() == 4 else images


def show_maps(images: torch.Tensor, maps: torch.Tensor, titles: Sequence[str] | None = None,
              normalize: bool = True, label: str | None = None, alpha: float = 0.5, scale: float = 1.8,
              axes=None):
    """Each map of ``maps (N, h, w)`` over its image of ``images (N, C, H, W)``, in one row, with a colour bar.

    Maps are resized to the images (bilinear). With ``normalize=True`` each map is scaled to [0, 1] on its
    own (where an image's map is highest, not how high), else all share one scale. Returns the axes.
    """
    images = _gray(images)
    if len(maps) != len(images):
        raise ValueError(f"{len(images)} images but {len(maps)} maps: give one map per image.")
    shown = upsample(maps.detach().cpu().float(), tuple(images.shape[-2:]))
    if normalize:
        low = shown.flatten(1).min(dim=1).values[:, None, None]
        high = shown.flatten(1).max(dim=1).values[:, None, None]
        shown = (shown - low) / (high - low).clamp(min=1e-12)
    vmin, vmax = shown.min().item(), shown.max().item()
    if axes is None:
        fig, axes = plt.subplots(1, len(images), figsize=(scale * len(images) + 0.8, scale + 0.4), squeeze=False)
        axes = axes[0]
    for i, ax in enumerate(axes):
        ax.imshow(images[i].numpy(), cmap="gray")
        overlay = ax.imshow(shown[i].numpy(), cmap="jet", alpha=alpha, vmin=vmin, vmax=vmax)
        ax.axis("off")
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=8)
    bar = plt.colorbar(overlay, ax=list(axes), fraction=0.02, pad=0.01)
    bar.set_label(label or ("relative, per image" if normalize else "value"), fontsize=8)
    return axes


def show_filters(weight: torch.Tensor, ncols: int = 8, scale: float = 0.9, title: str | None = None):
    """The filters ``weight (out, in, k, k)`` of a convolution as images (the input channels averaged).

    One symmetric colour scale for all: red weights add the pixel, blue ones subtract it. Returns the axes.
    """
    filters = weight.detach().cpu().float().mean(dim=1)
    limit = filters.abs().max().item() or 1.0
    nrows = -(-len(filters) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols + 0.8, scale * nrows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, f in zip(axes.flat, filters):
        image = ax.imshow(f.numpy(), cmap="bwr", vmin=-limit, vmax=limit)
    plt.colorbar(image, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01).set_label("weight", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return axes


def show_feature_maps(maps: dict[str, torch.Tensor], n: int = 8, scale: float = 1.0):
    """One row per layer: the ``n`` most active channels of ``maps[name] (C, h, w)`` (one image's).

    Each row has its own colour scale and bar, because activations grow or shrink with depth. Returns the axes.
    """
    fig, axes = plt.subplots(len(maps), n, figsize=(scale * n + 1.2, scale * len(maps) + 0.3), squeeze=False)
    for row, (name, fmap) in zip(axes, maps.items()):
        fmap = fmap.detach().cpu().float()
        if fmap.dim() != 3:
            raise ValueError(f"maps[{name!r}] must be one image's feature maps (C, h, w), got {tuple(fmap.shape)}.")
        top = fmap.mean(dim=(1, 2)).argsort(descending=True)[:n]
        vmax = fmap[top].max().item()
        for ax in row:
            ax.axis("off")
        for ax, channel in zip(row, top.tolist()):
            image = ax.imshow(fmap[channel].numpy(), cmap="viridis", vmin=0 if fmap.min() >= 0 else None, vmax=vmax)
            ax.set_title(f"ch {channel}", fontsize=7)
        row[0].text(-0.15, 0.5, f"{name}\n{fmap.shape[1]}x{fmap.shape[2]}", transform=row[0].transAxes,
                    ha="right", va="center", fontsize=8)
        plt.colorbar(image, ax=list(row), fraction=0.02, pad=0.01)
    return axes


def plot_embedding(points: np.ndarray, labels: torch.Tensor, class_names: Sequence[str], ax=None,
                   title: str | None = None):
    """A scatter plot of ``points (N, 2)`` coloured by class, with a legend. Returns the axes."""
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if len(points) != len(labels):
        raise ValueError(f"{len(points)} points but {len(labels)} labels.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5))
    colours = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        chosen = labels == c
        ax.scatter(points[chosen, 0], points[chosen, 1], s=4, color=colours(c % 10), label=name, alpha=0.7)
    ax.legend(markerscale=4, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


__all__ = ["plot_embedding", "show_feature_maps", "show_filters", "show_maps", "upsample"]
