"""Checks for the exercises: one module per notebook, and the engines they share.

Learners reach an exercise through its object, ``ex = ck.exercise("04.1")``
(see :mod:`coursekit.exercises`): ``ex.check(answer)`` prints one line,
``✔ Right: ...`` with why it is right, ``✘ ...`` with what is probably wrong and
where to look, or, while the answer is still ``None``, ``… not answered yet``.
A number may be given as an int, a float, a numpy number, a one-element tensor
or a string such as ``"1,234"``; a shape as a tuple, a list, a ``torch.Size`` or
a string such as ``"(1, 64, 28, 28)"``; code as the learner's function or class.
Whatever the answer, a check never raises because of it.

Each check returns a :class:`~coursekit.check.verdict.Verdict`, true only for
a right answer, which shows nothing more when it ends a cell. Expected values
are computed from the networks and formulas themselves, never typed in, so a
check stays right if a model changes. One module per notebook (``ch01_lenet``
holds the checks and the :class:`~coursekit.check.exercise.Exercise` objects of
``01_lenet.ipynb``); numbers and shapes are judged by
:mod:`coursekit.check.verdict`, which documents the tolerance rule, and code by
:mod:`coursekit.check.code`. The checks of the chapters whose notebooks still
call them directly are re-exported here (``ck.check.conv_macs(answer)``).
"""

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
    "batch_norm_eval_output",
    "bn_lenet_added_parameters",
    "bn_lenet_buffers",
    "bottleneck_block_parameters",
    "center_of_unit",
    "conv_macs",
    "conv_parameters",
    "dense_block_parameters",
    "dense_transition_channels",
    "dilated_receptive_field",
    "frozen_trainable_parameters",
    "int8_linear_bytes",
    "moving_mean_after",
    "multipath_receptive_field",
    "pruned_fraction_left",
    "receptive_field_size",
    "resnet_stage_output_shape",
    "separable_ratio",
]
