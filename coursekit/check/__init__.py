"""Checks for the exercises: call one with your answer and read what it says.

Each check prints a short verdict and, when the answer is off, what is
probably wrong and where to look; it returns True or False so a notebook can
branch on it. Expected values are computed from the networks and formulas
themselves, never typed in, so a check stays right if a model changes.
``None`` means "not answered yet". One file per chapter group.
"""

from ._first_half import (
    alexnet_fc_share,
    alexnet_flatten_features,
    bottleneck_parameters_saved,
    conv2d_output_shape,
    factorized_conv_parameters,
    inception_out_channels,
    lenet_parameters,
    vgg16_head_share,
    vgg_block_parameters,
)
from ._batch_norm import *  # noqa: F403
from ._resnet import *  # noqa: F403
from ._densenet import *  # noqa: F403
from ._receptive_fields import *  # noqa: F403
from ._cost import *  # noqa: F403
from ._design import *  # noqa: F403
