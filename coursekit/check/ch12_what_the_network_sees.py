"""Exercises of notebook 12, what a trained network sees."""

from __future__ import annotations

from typing import Any

import torch

from .. import models
from ..explain import grad_cam_from
from .code import Mistake, judge_code, same_tensor
from .exercise import Exercise
from .verdict import Slip, Verdict, judge


def resnet_last_maps_shape(side: int = 96, batch: int = 2) -> tuple[int, ...]:
    """The shape of what ResNet-18's global average pooling averages, for ``batch`` images of ``side`` x ``side``."""
    with torch.device("meta"):
        net = models.resnet18_d2l()
        return tuple(net[:5](torch.empty(batch, 1, side, side)).shape)


def check_last_maps_shape(answer: Any, side: int = 96) -> Verdict:
    """Exercise 12.1: the shape of ResNet-18's last feature maps for two ``side`` x ``side`` images."""
    expected = resnet_last_maps_shape(side)
    at_32 = resnet_last_maps_shape(32)
    return judge(
        answer, "shape", expected,
        what="a shape (N, C, h, w), the output of net[:5] for two images",
        right=f"{expected}: the stem divides the side by 4 and three stages halve it again, 32 in all, so a "
              f"{side}x{side} image gives {expected[-2]}x{expected[-1]} maps where a 32x32 one gives "
              f"{at_32[-2]}x{at_32[-1]}: its CAM has {expected[-2] * expected[-1]} positions to point at.",
        slips=[
            Slip(at_32, "That is the shape for 32x32 images (the laptop recipe's); the question asks for 96x96."),
            Slip(expected[:2] + (side // 16, side // 16), "One halving short: count the stride-2 convolution AND "
                 "the max-pool of the stem, then one halving in each of the stages 3, 4 and 5."),
            Slip((expected[0], 10) + expected[2:], "10 is the number of classes, after the linear layer; the maps "
                 "before the pooling have as many channels as the last stage."),
        ],
        otherwise="Run net = ck.models.resnet18_d2l() on torch.zeros(2, 1, 96, 96) up to the pooling (net[:5]) and "
                  "print the shape, or follow the side through ck.layer_shapes(net, (2, 1, 96, 96)).",
    )


# --- 12.2: Grad-CAM from a layer's output and the gradient (the reference is ck.explain.grad_cam_from) --------

def _pair(seed: int, n: int, c: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, h, w, generator=g), torch.randn(n, c, h, w, generator=g)


# (activation, gradient): square and non-square maps, one image and a few.
GRAD_CAM_TRIALS = [_pair(0, 2, 8, 4, 4), _pair(1, 1, 16, 3, 5), _pair(2, 3, 4, 6, 6)]


def check_grad_cam_from(answer: Any) -> Verdict:
    """Exercise 12.2: the learner's ``grad_cam_from(activation, gradient) -> (N, h, w)``."""

    def plain(a, g):
        return (g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1)

    def close(got, want):
        return isinstance(got, torch.Tensor) and got.shape == want.shape and torch.allclose(got, want, atol=1e-5)

    return judge_code(
        answer, grad_cam_from, GRAD_CAM_TRIALS,
        what="your function grad_cam_from(activation, gradient)",
        compare=same_tensor,
        right="each channel weighted by its gradient averaged over the positions, the weighted channels summed, "
              "and only the positive part kept: the positions that raise the class score.",
        mistakes=[
            Mistake(lambda a: close(a.got, plain(*a.args)),
                    "Almost: keep only the positive part (torch.relu), the evidence FOR the class."),
            Mistake(lambda a: close(a.got, torch.relu((a.args[1] * a.args[0]).sum(dim=1))),
                    "You weighted every position by its own gradient; Grad-CAM first averages the gradient of each "
                    "channel over its positions (mean over dims 2 and 3), one weight per channel."),
            Mistake(lambda a: close(a.got, a.expected * a.args[0].shape[2] * a.args[0].shape[3]),
                    "Sum over the positions makes the weights h*w times too large: take the mean."),
            Mistake(lambda a: close(a.got, a.expected / a.args[0].shape[1]),
                    "Sum the weighted channels (dim 1), do not average them."),
            Mistake(lambda a: a.got.shape != a.expected.shape,
                    "The map has one value per position of each image, (N, h, w): sum over the channels only."),
        ],
        otherwise="Three steps: weights = gradient.mean(dim=(2, 3), keepdim=True); weighted sum over dim 1; ReLU.",
    )


EX1 = Exercise(
    "12.1", "How big is ResNet-18's CAM?", "shape",
    hint="Follow the side through the network: the stem has a stride-2 convolution and a stride-2 max-pool, and "
         "every stage after the first halves the side once. Or run the network on zeros.",
    check=check_last_maps_shape,
    answer=lambda: resnet_last_maps_shape(96),
)
EX2 = Exercise(
    "12.2", "Write Grad-CAM's last step", "code",
    hint="Average the gradient of each channel over its positions (one weight per channel), weight the channels "
         "of the activation by it, add them up over the channels, and keep the positive part.",
    check=check_grad_cam_from,
    answer=lambda: grad_cam_from,
    discussion="ck.explain.grad_cam gets activation and gradient with a forward hook and torch.autograd.grad, "
               "then calls exactly this.",
)
EX3 = Exercise(
    "12.3", "Randomise only the last layer", "open question",
    hint="Copy the trained network (copy.deepcopy), re-initialise only its last nn.Linear (reset_parameters()) "
         "and compare its saliency and Grad-CAM maps with the trained network's on the same images.",
    outcome="the saliency and Grad-CAM maps change, since the gradient of the class score now flows through "
            "random weights; the feature maps of every layer before the last one stay exactly the same.",
    discussion="This is the cascading randomisation of Adebayo et al. (2018), one layer at a time from the top. A "
               "method whose map stays the same after the layers that decide the class are randomised explains "
               "the image, not the network's decision. Gradient saliency and Grad-CAM pass this test; some "
               "methods in their paper (guided back-propagation) barely change.",
)
EX4 = Exercise(
    "12.4", "What the network looks at when it is wrong", "open question",
    hint="Take the test images of shirts that the network called T-shirts (ck.predict gives the predictions), and "
         "show Grad-CAM for the true class and for the predicted class side by side.",
    outcome="two maps you can compare: if they cover the same parts of the garment, the network saw the same "
            "evidence and weighed it differently; the parts that tell the classes apart (collar, buttons, sleeve "
            "length) are only a few pixels at 32x32.",
    discussion="A map says where the evidence for a class lies, not which feature it is. When the maps of the "
               "true and the predicted class cover the same region, the network saw the same parts and weighed "
               "them differently; more resolution or more data on the discriminating parts is what helps, not a "
               "different head.",
)
EXERCISES = (EX1, EX2, EX3, EX4)
