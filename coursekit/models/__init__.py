"""Every network of the course, from LeNet to DenseNet.

One module per family, each reading top to bottom like its lecture: the
building blocks first, then the networks made of them.

Naming
------
* **Family names are the d2l forms** the notebooks train on Fashion-MNIST
  (1 channel, 10 classes): ``lenet``, ``alexnet``, ``nin``, ``googlenet``,
  ``densenet``, and ``vgg(conv_arch)``. Variants add a word:
  ``lenet_modern``, ``bn_lenet``, ``bn_lenet_scratch``, ``vgg11_narrow``
  (d2l's trainable VGG-11), ``resnet18_d2l``.
* **Depth-numbered names are the ImageNet forms** (3 channels, 1000
  classes, 224x224) and mean the same network as torchvision's function of
  that name, parameter for parameter: ``vgg11`` .. ``vgg19``, ``resnet18`` ..
  ``resnet152``, ``densenet121``.
* **``_imagenet`` marks the paper's ImageNet form** of a family whose plain
  name is the d2l form and whose torchvision version departs from the paper:
  ``alexnet_imagenet``, ``googlenet_imagenet``.

Every constructor takes ``in_channels`` and ``num_classes``, returns logits
``(N, num_classes)`` and records the image size it is meant for in
``net.input_size`` (``(C, H, W)``). An input the network cannot take raises a
``ValueError`` that names the model, the expected shape and the fix.

>>> from coursekit.models import get_model, list_models
>>> net = get_model("resnet18_d2l")
>>> net.input_size
(1, 96, 96)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from torch import nn

from .alexnet import alexnet, alexnet_imagenet
from .batch_norm import BatchNorm, batch_norm, bn_lenet, bn_lenet_scratch
from .densenet import DenseBlock, bottleneck_block, conv_block, densenet, densenet121, transition_block
from .googlenet import GoogLeNet, GoogLeNetOutputs, Inception, googlenet, googlenet_imagenet, googlenet_loss
from .lenet import lenet, lenet_modern
from .nin import nin, nin_block
from .resnet import (
    BasicBlock,
    Bottleneck,
    Residual,
    ResNet,
    resnet18,
    resnet18_d2l,
    resnet18_small,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnet_block,
)
from .vgg import (
    VGG11_ARCH,
    VGG13_ARCH,
    VGG16_ARCH,
    VGG19_ARCH,
    vgg,
    vgg11,
    vgg11_narrow,
    vgg13,
    vgg16,
    vgg19,
    vgg_block,
)

# Name -> constructor, in the order of the course: the trainable d2l forms, then the ImageNet forms.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "lenet": lenet,
    "lenet_modern": lenet_modern,
    "bn_lenet_scratch": bn_lenet_scratch,
    "bn_lenet": bn_lenet,
    "alexnet": alexnet,
    "vgg11_narrow": vgg11_narrow,
    "nin": nin,
    "googlenet": googlenet,
    "resnet18_d2l": resnet18_d2l,
    "densenet": densenet,
    "resnet18_small": resnet18_small,
    "alexnet_imagenet": alexnet_imagenet,
    "vgg11": vgg11,
    "vgg13": vgg13,
    "vgg16": vgg16,
    "vgg19": vgg19,
    "googlenet_imagenet": googlenet_imagenet,
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "resnet101": resnet101,
    "resnet152": resnet152,
    "densenet121": densenet121,
}


def list_models() -> list[str]:
    """Names in :data:`MODELS`, in the order of the course."""
    return list(MODELS)


def get_model(name: str, **kwargs) -> nn.Module:
    """Build the model called ``name``; ``kwargs`` go to its constructor.

    >>> net = get_model("alexnet", num_classes=10)
    """
    try:
        constructor = MODELS[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), MODELS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown model {name!r}.{hint} Valid names: {', '.join(MODELS)}.") from None
    return constructor(**kwargs)


__all__ = [
    "MODELS",
    "VGG11_ARCH",
    "VGG13_ARCH",
    "VGG16_ARCH",
    "VGG19_ARCH",
    "BasicBlock",
    "BatchNorm",
    "Bottleneck",
    "DenseBlock",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "ResNet",
    "Residual",
    "alexnet",
    "alexnet_imagenet",
    "batch_norm",
    "bn_lenet",
    "bn_lenet_scratch",
    "bottleneck_block",
    "conv_block",
    "densenet",
    "densenet121",
    "get_model",
    "googlenet",
    "googlenet_imagenet",
    "googlenet_loss",
    "lenet",
    "lenet_modern",
    "list_models",
    "nin",
    "nin_block",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet18_d2l",
    "resnet18_small",
    "resnet34",
    "resnet50",
    "resnet_block",
    "transition_block",
    "vgg",
    "vgg11",
    "vgg11_narrow",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg_block",
]
