"""What a trained network sees: feature maps, filters, class activation maps, Grad-CAM, saliency, embeddings.

Every instrument takes a network and a batch ``X`` of shape ``(N, C, H, W)`` on the network's device, and
works in evaluation mode (the network's mode is restored afterwards)::

    maps = feature_maps(net, X, ["0", "2"])         # {layer name: (N, C', H', W')}, through forward hooks
    cam = class_activation_map(net, X)              # (N, h, w): GAP networks (NiN, GoogLeNet, ResNet, DenseNet)
    gcam = grad_cam(net, X, "4")                    # (N, h, w): any layer with a spatial output
    sal = saliency(net, X)                          # (N, H, W): |d score / d pixel|
    features, labels = penultimate_features(net, test_iter)
    points = embed_2d(features)                     # (N, 2), t-SNE from scikit-learn

``target`` (an int, or one class per image) picks the class a map explains; the default is the class the
network predicts. The three maps are hand-written because they are the lesson (a few lines each);
``tests/test_explain.py`` checks them against Captum's implementations. The plots (``show_maps``,
``show_filters``, ``show_feature_maps``, ``plot_embedding``) live in :mod:`coursekit.explain_plot` and are
re-exported here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .evaluate import evaluation_mode
from .explain_plot import plot_embedding, show_feature_maps, show_filters, show_maps, upsample


def layer_names(net: nn.Module) -> list[str]:
    """The names of ``net``'s layers (its sub-modules, as ``net.named_modules()`` calls them)."""
    return [name for name, _ in net.named_modules() if name]


def get_layer(net: nn.Module, name: str) -> nn.Module:
    """The sub-module of ``net`` called ``name`` (``"4"``, ``"4.0.conv1"``...).

    An unknown name raises ``ValueError`` listing the valid ones, the closest first.
    """
    modules = dict(net.named_modules())
    if not isinstance(name, str) or not name or name not in modules:
        close = difflib.get_close_matches(str(name), layer_names(net), n=5, cutoff=0.0)
        top = [n for n, _ in net.named_children()]
        raise ValueError(f"{type(net).__name__} has no layer {name!r}. The closest names: "
                         f"{', '.join(map(repr, close))}; its top-level layers: {', '.join(map(repr, top))} "
                         "(all of them, nested ones as '4.0.conv1': ck.explain.layer_names(net)).")
    return modules[name]


def check_batch(net: nn.Module, X: torch.Tensor) -> None:
    """Raise a clear error unless ``X`` is a batch ``(N, C, H, W)`` on the device of ``net``'s weights."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a batch of images as a tensor (N, C, H, W), got {type(X).__name__}; "
                        "take one from a loader: X, y = next(iter(test_iter)).")
    if X.dim() != 4:
        raise ValueError(f"X must be a batch of images (N, C, H, W), got shape {tuple(X.shape)}; for one image "
                         "use X[None] (or image.unsqueeze(0)).")
    weight = next(iter(net.parameters()), None)
    if weight is not None and weight.device != X.device:
        raise ValueError(f"the batch is on {X.device} but the network is on {weight.device}: move the batch "
                         f"with X = X.to({str(weight.device)!r}) (or the network with net.to(X.device)).")


def _targets(logits: torch.Tensor, target: int | Sequence[int] | torch.Tensor | None) -> torch.Tensor:
    """One class per image: ``target`` broadcast to ``(N,)``, or the predicted classes."""
    if target is None:
        return logits.argmax(dim=1)
    target = torch.as_tensor(target, device=logits.device).long().reshape(-1)
    if target.numel() == 1:
        target = target.expand(logits.shape[0])
    if target.numel() != logits.shape[0] or target.min() < 0 or target.max() >= logits.shape[1]:
        raise ValueError(f"target must be one class in 0..{logits.shape[1] - 1}, or one per image "
                         f"({logits.shape[0]}), got {target.tolist()}.")
    return target


def run_with_hooks(net: nn.Module, X: torch.Tensor, modules: dict[str, nn.Module],
                   record: Callable[[str, torch.Tensor], None]) -> None:
    """Run ``X`` through ``net`` in evaluation mode without gradients, calling ``record(name, output)`` with
    the output of each named module (a forward hook on each, removed afterwards even if the forward fails)."""
    handles = [module.register_forward_hook(lambda m, inputs, output, name=name: record(name, output))
               for name, module in modules.items()]
    try:
        with evaluation_mode(net), torch.no_grad():
            net(X)
    finally:
        for handle in handles:
            handle.remove()


def feature_maps(net: nn.Module, X: torch.Tensor, layers: str | Sequence[str]) -> dict[str, torch.Tensor]:
    """``{name: output}`` of each named layer for the batch ``X``, captured by forward hooks (no gradients).

    ``layers`` is one name or a list of names from :func:`layer_names`; outputs keep their shapes,
    e.g. ``(N, 64, 8, 8)`` for a convolution stage.
    """
    check_batch(net, X)
    names = [layers] if isinstance(layers, str) else list(layers)
    captured: dict[str, torch.Tensor] = {}
    run_with_hooks(net, X, {name: get_layer(net, name) for name in names},
                   lambda name, output: captured.__setitem__(name, output.detach()))
    return {name: captured[name] for name in names}


def first_conv(net: nn.Module) -> nn.Conv2d:
    """The first ``nn.Conv2d`` of ``net``: its ``weight`` ``(out, in, k, k)`` are the filters the images meet."""
    conv = next((m for m in net.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ValueError(f"{type(net).__name__} has no nn.Conv2d layer, so no filters to show.")
    return conv


def _leaves(net: nn.Module) -> list[nn.Module]:
    """``net``'s layers in order, with nested ``nn.Sequential`` containers opened."""
    if isinstance(net, nn.Sequential):
        return [leaf for module in net for leaf in _leaves(module)]
    return [net]


def _is_global_pool(module: nn.Module) -> bool:
    return isinstance(module, nn.AdaptiveAvgPool2d) and module.output_size in (1, (1, 1))


def gap_head(net: nn.Module) -> tuple[nn.AdaptiveAvgPool2d, nn.Linear | None]:
    """The global average pooling that ends ``net`` and the linear layer after it (None for NiN).

    Raises ``ValueError`` for a network that does not end in global average pooling followed by at most a
    flatten and one linear layer: class activation maps exist only for that design.
    """
    leaves = _leaves(net)
    where = max((i for i, m in enumerate(leaves) if _is_global_pool(m)), default=None)
    tail = leaves[where + 1:] if where is not None else []
    linears = [m for m in tail if isinstance(m, nn.Linear)]
    if where is None or len(linears) > 1 or any(not isinstance(m, (nn.Linear, nn.Flatten, nn.Dropout, nn.Identity))
                                                for m in tail):
        ending = ", ".join(type(m).__name__ for m in leaves[-4:])
        raise ValueError(f"class activation maps need a network that ends in global average pooling "
                         f"(nn.AdaptiveAvgPool2d(1)) followed by at most a flatten and one linear layer, as NiN, "
                         f"GoogLeNet, ResNet and DenseNet do; this one ends in {ending}. Use grad_cam(net, X, "
                         "layer), which works for any convolutional layer.")
    return leaves[where], (linears[0] if linears else None)


def class_activation_maps(net: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Every class's activation map (Zhou et al., 2016): ``(N, classes, h, w)`` at the last feature maps' size.

    A GAP network scores class ``c`` as ``mean over positions of f`` followed by ``w_c``; swapping the two,
    ``w_c . f(x, y)`` says how much each position votes for ``c``. The bias is spread over the positions,
    so each map's mean is exactly the class's score (the logit).
    """
    check_batch(net, X)
    pool, linear = gap_head(net)
    captured = {}
    handle = pool.register_forward_hook(lambda module, inputs, output: captured.__setitem__("f", inputs[0]))
    try:
        with evaluation_mode(net), torch.no_grad():
            net(X)
    finally:
        handle.remove()
    f = captured["f"]  # (N, K, h, w): what the pooling averages
    if linear is None:
        return f  # NiN: the last convolution already gives one map per class
    bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features, device=f.device)
    return torch.einsum("ck,nkhw->nchw", linear.weight, f) + bias[None, :, None, None]


def class_activation_map(net: nn.Module, X: torch.Tensor, target=None) -> torch.Tensor:
    """``(N, h, w)``: the class activation map of ``target`` (default: the predicted class) for each image."""
    maps = class_activation_maps(net, X)
    target = _targets(maps.mean(dim=(2, 3)), target)  # the mean of the maps is the logits
    return maps[torch.arange(len(maps), device=maps.device), target]


def grad_cam(net: nn.Module, X: torch.Tensor, layer: str, target=None) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017) of the layer named ``layer``: ``(N, h, w)`` at that layer's size.

    Weights each channel of the layer's output by the mean gradient of the class score over its
    positions, sums the weighted channels and keeps the positive part. On a GAP network's last feature
    maps it is the class activation map, up to the bias and the scale ``h * w``.
    """
    check_batch(net, X)
    module = get_layer(net, layer)
    captured = {}
    handle = module.register_forward_hook(lambda m, inputs, output: captured.__setitem__("a", output))
    try:
        with evaluation_mode(net), torch.enable_grad():
            logits = net(X.detach().requires_grad_(True))  # so that the layer's output is in the graph
            activation = captured.get("a")
            if not isinstance(activation, torch.Tensor) or activation.dim() != 4:
                shape = tuple(activation.shape) if isinstance(activation, torch.Tensor) else type(activation).__name__
                raise ValueError(f"Grad-CAM needs a layer with feature maps (N, C, h, w), such as a convolution or a "
                                 f"block of them; {layer!r} ({type(module).__name__}) gives {shape}. Layers with "
                                 f"feature maps: {', '.join(repr(n) for n in spatial_layers(net, X))}.")
            score = logits.gather(1, _targets(logits, target)[:, None]).sum()
            (gradient,) = torch.autograd.grad(score, activation)
    finally:
        handle.remove()
    return grad_cam_from(activation.detach(), gradient)


def grad_cam_from(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """Grad-CAM's map from a layer's output ``activation (N, C, h, w)`` and the class score's gradient with
    respect to it (same shape): ``(N, h, w)``."""
    weights = gradient.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1): how much each channel matters
    return F.relu((weights * activation).sum(dim=1))


def spatial_layers(net: nn.Module, X: torch.Tensor) -> list[str]:
    """The names of the layers whose output for ``X`` is 4-D feature maps: where Grad-CAM can look."""
    dims: dict[str, int] = {}
    run_with_hooks(net, X, {name: module for name, module in net.named_modules() if name},
                   lambda name, output: dims.__setitem__(name, getattr(output, "dim", lambda: 0)()))
    return [name for name, d in dims.items() if d == 4]


def saliency(net: nn.Module, X: torch.Tensor, target=None) -> torch.Tensor:
    """Input-gradient saliency (Simonyan et al., 2014): ``(N, H, W)``, ``|d score / d pixel|``, max over channels."""
    check_batch(net, X)
    X = X.detach().requires_grad_(True)
    with evaluation_mode(net), torch.enable_grad():
        logits = net(X)
        score = logits.gather(1, _targets(logits, target)[:, None]).sum()
        (gradient,) = torch.autograd.grad(score, X)
    return gradient.abs().amax(dim=1)


def peaks(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, 2)``: row and column of each map's maximum, in the pixels of images of ``size = (H, W)``."""
    flat = upsample(maps, size).flatten(1).argmax(dim=1)
    return torch.stack([flat // size[1], flat % size[1]], dim=1)


def on_canvas(X: torch.Tensor, side: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image of ``X (N, C, H, W)`` pasted at a random place of a ``side`` x ``side`` canvas of its own
    background (its top-left pixel): ``(canvases (N, C, side, side), corners (N, 2))``, corners as (row, column).

    A network ending in global average pooling takes any image size, and a bigger canvas gives bigger last
    feature maps, so its class maps can say *where* the object is.
    """
    n, c, h, w = X.shape
    if side < max(h, w):
        raise ValueError(f"the canvas ({side}x{side}) must be at least as large as the images ({h}x{w}).")
    g = torch.Generator().manual_seed(seed)
    corners = torch.stack([torch.randint(0, side - h + 1, (n,), generator=g),
                           torch.randint(0, side - w + 1, (n,), generator=g)], dim=1)
    canvases = X[:, :, :1, :1].expand(n, c, side, side).clone()
    for image, canvas, (row, col) in zip(X, canvases, corners.tolist()):
        canvas[:, row:row + h, col:col + w] = image
    return canvases, corners


def penultimate_features(net: nn.Module, data_iter: Iterable, max_examples: int = 2000) -> tuple[torch.Tensor,
                                                                                                    torch.Tensor]:
    """``(features (N, D), labels (N,))`` on the CPU: what the last layer of ``net`` sees, for up to
    ``max_examples`` examples of ``data_iter``.

    The input of the last linear layer (for NiN, which has none, the pooled class maps: its logits).
    """
    leaves = _leaves(net)
    last = next((m for m in reversed(leaves) if isinstance(m, nn.Linear)), None)
    if last is None:
        last = next((m for m in reversed(leaves) if _is_global_pool(m)), None)
        if last is None:
            raise ValueError(f"{type(net).__name__} has neither a linear layer nor global average pooling: "
                             "use feature_maps(net, X, layer) and flatten the layer you want.")
    features, labels, captured = [], [], {}
    handle = last.register_forward_hook(lambda m, inputs, output: captured.__setitem__(
        "x", (output if isinstance(m, nn.AdaptiveAvgPool2d) else inputs[0]).flatten(1)))
    try:
        seen = 0
        for X, y in data_iter:
            X = X.to(next(net.parameters()).device)
            check_batch(net, X)
            with evaluation_mode(net), torch.no_grad():
                net(X)
            features.append(captured["x"].float().cpu())
            labels.append(y.cpu())
            seen += len(y)
            if seen >= max_examples:
                break
    finally:
        handle.remove()
    return torch.cat(features)[:max_examples], torch.cat(labels)[:max_examples]


def embed_2d(features: torch.Tensor, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """``(N, 2)`` points for ``(N, D)`` features: t-SNE (van der Maaten & Hinton, 2008) or PCA, from scikit-learn.

    t-SNE keeps neighbours together (distances between far clusters mean little); PCA is the linear
    projection that keeps the most variance.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    data = np.asarray(features.detach().cpu().float() if isinstance(features, torch.Tensor) else features)
    if data.ndim != 2 or len(data) < 3:
        raise ValueError(f"features must be (N, D) with N >= 3, got shape {data.shape}.")
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(data)
    if method == "tsne":
        perplexity = min(30.0, (len(data) - 1) / 3)
        return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(data)
    raise ValueError(f"method must be 'tsne' or 'pca', got {method!r}.")


def confused_pairs(matrix: torch.Tensor, k: int = 3) -> list[tuple[int, int, int]]:
    """The ``k`` pairs of classes most often taken for each other: ``(a, b, count)``, both directions counted.

    ``matrix`` is a confusion matrix (rows true, columns predicted), e.g. ``ck.confusion_matrix(...)``.
    """
    m = matrix.detach().cpu().long()
    both = m + m.T
    pairs = [(a, b, int(both[a, b])) for a in range(len(m)) for b in range(a + 1, len(m))]
    return sorted(pairs, key=lambda pair: -pair[2])[:k]


__all__ = ["check_batch", "class_activation_map", "class_activation_maps", "confused_pairs", "embed_2d",
           "feature_maps", "first_conv", "gap_head", "get_layer", "grad_cam", "grad_cam_from", "layer_names",
           "on_canvas", "peaks", "penultimate_features", "plot_embedding", "saliency", "show_feature_maps",
           "show_filters", "show_maps", "spatial_layers", "upsample"]
