"""Every public check: the names the notebooks call, and one verdict line whatever the answer.

The exercise objects' checks get the same test in test_exercises.py."""

import inspect

import numpy as np
import pytest
import torch

from coursekit import check
from coursekit.check import Verdict
from tests.helpers import MARKS

# The checks' parameters, as the notebooks and older lessons call them: they must not change.
SIGNATURES = {
    "activation_bytes": ["answer"],
    "batch_norm_eval_output": ["answer", "x", "running_mean", "running_var", "gamma", "beta", "eps"],
    "bn_lenet_added_parameters": ["answer"],
    "bn_lenet_buffers": ["answer"],
    "bottleneck_block_parameters": ["answer", "in_channels", "width", "stride"],
    "center_of_unit": ["answer", "unit"],
    "conv_macs": ["answer", "in_channels", "out_channels", "kernel_size", "stride", "padding", "size"],
    "conv_parameters": ["answer", "in_channels", "out_channels", "kernel_size", "groups"],
    "dense_block_parameters": ["answer", "num_convs", "in_channels", "growth_rate"],
    "dense_transition_channels": ["answer", "in_channels", "num_convs", "growth_rate"],
    "dilated_receptive_field": ["answer", "dilations", "kernel_size"],
    "frozen_trainable_parameters": ["answer", "model", "num_classes"],
    "int8_linear_bytes": ["answer", "model", "kwargs"],
    "moving_mean_after": ["answer", "steps", "momentum", "batch_mean"],
    "multipath_receptive_field": ["answer", "c1", "c2", "c3", "c4"],
    "pruned_fraction_left": ["answer", "amounts"],
    "receptive_field_size": ["answer", "layers"],
    "resnet_stage_output_shape": ["answer", "input_shape", "num_channels", "num_residuals", "first_block"],
    "separable_ratio": ["answer", "in_channels", "out_channels", "kernel_size"],
}
ODD_ANSWERS = [None, "abc", "12", [1, 2], (1,), {}, 3.5, -1, float("nan"), True, np.int64(3), torch.tensor(2.0),
               torch.ones(3), np.array([1, 2])]


def test_the_public_names_are_the_checks_and_the_verdict():
    assert check.__all__ == sorted(check.__all__)
    assert set(check.__all__) == set(SIGNATURES) | {"Verdict"}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_a_check_keeps_its_parameters(name):
    assert list(inspect.signature(getattr(check, name)).parameters) == SIGNATURES[name]


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_any_answer_gets_exactly_one_verdict_line(capsys, name):
    for answer in ODD_ANSWERS:
        result = getattr(check, name)(answer)
        out = capsys.readouterr().out
        assert isinstance(result, Verdict), (name, answer)
        assert out.count("\n") == 1 and out.startswith(MARKS[result.correct]), (name, answer, out)
