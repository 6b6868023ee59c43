"""Checks for the exercises: call one with your answer and read the line it prints.

In a notebook::

    answer = None                      # replace None with your answer
    ck.check.lenet_parameters(answer)  # prints one line

prints one line: ``✔ Right: ...`` with why it is right, ``✘ ...`` with what is
probably wrong and where to look, or, while the answer is still ``None``,
``… not answered yet``. A number may be given as an int, a float, a numpy
number, a one-element tensor or a string such as ``"1,234"``; a shape as a
tuple, a list, a ``torch.Size`` or a string such as ``"(1, 64, 28, 28)"``.
Whatever the answer, a check never raises because of it: an answer of the
wrong kind gets a line that says what was expected.

Each check returns a :class:`~coursekit.check.verdict.Verdict`, true only for
a right answer (``if ck.check.lenet_parameters(answer): ...``), which shows
nothing more when it ends a cell. Expected values are computed from the
networks and formulas themselves, never typed in, so a check stays right if a
model changes. One module per notebook (``ch01_lenet`` holds the checks of
``01_lenet.ipynb``); they all judge answers with :mod:`coursekit.check.verdict`,
which documents the tolerance rule.
"""

from .ch00_building_blocks import conv2d_output_shape
from .ch01_lenet import lenet_parameters
from .ch02_alexnet import alexnet_fc_share, alexnet_flatten_features
from .ch03_vgg import vgg16_head_share, vgg_block_parameters
from .ch04_nin import bottleneck_parameters_saved
from .ch05_googlenet import factorized_conv_parameters, inception_out_channels
from .ch06_batch_norm import (
    batch_norm_eval_output,
    bn_lenet_added_parameters,
    bn_lenet_buffers,
    moving_mean_after,
)
from .ch07_resnet import bottleneck_block_parameters, resnet_stage_output_shape
from .ch08_densenet import dense_block_parameters, dense_transition_channels
from .ch09_receptive_fields import (
    center_of_unit,
    dilated_receptive_field,
    multipath_receptive_field,
    receptive_field_size,
)
from .ch10_cost_of_architectures import activation_bytes, conv_macs, conv_parameters, separable_ratio
from .ch11_design_and_training import frozen_trainable_parameters, int8_linear_bytes, pruned_fraction_left
from .verdict import Verdict

__all__ = [
    "Verdict",
    "activation_bytes",
    "alexnet_fc_share",
    "alexnet_flatten_features",
    "batch_norm_eval_output",
    "bn_lenet_added_parameters",
    "bn_lenet_buffers",
    "bottleneck_block_parameters",
    "bottleneck_parameters_saved",
    "center_of_unit",
    "conv2d_output_shape",
    "conv_macs",
    "conv_parameters",
    "dense_block_parameters",
    "dense_transition_channels",
    "dilated_receptive_field",
    "factorized_conv_parameters",
    "frozen_trainable_parameters",
    "inception_out_channels",
    "int8_linear_bytes",
    "lenet_parameters",
    "moving_mean_after",
    "multipath_receptive_field",
    "pruned_fraction_left",
    "receptive_field_size",
    "resnet_stage_output_shape",
    "separable_ratio",
    "vgg16_head_share",
    "vgg_block_parameters",
]
