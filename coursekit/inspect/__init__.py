"""Instruments for looking inside a network: shapes, parameters, cost, receptive fields.

Every chapter asks the same questions of its model, and this package
answers them for any ``nn.Module``, branching ones (Inception, ResNet,
DenseNet) included:

* what shape comes out of each layer?          :func:`layer_shapes`, :func:`summary`
* where are the parameters?                    :func:`count_params`, :func:`layer_shapes`
* what does a forward pass cost?               :func:`flops`
* how much memory does it take?               :func:`memory`
* which input pixels does each unit see?       :func:`receptive_field`,
  :func:`effective_receptive_field`

``input_size`` is always the size of the input *batch*, as in torchinfo:
``(N, C, H, W)``, for example ``(1, 1, 28, 28)`` for one Fashion-MNIST image.
``(C, H, W)`` is accepted too and gets a batch of one. :func:`layer_shapes`,
:func:`summary` and :func:`flops` also accept ``(N, features)`` for a network
that takes flat vectors (an MLP).

Every table comes back as a small object that prints as aligned plain text
(``print(table)``), renders as HTML in Jupyter, and keeps its values in
``table.rows`` (dataclasses) for code and tests; ``table["name"]`` looks a row
up by layer name.

Receptive fields follow the actual dataflow graph of the network, traced with
``torch.fx``. Along each axis (height and width separately) a unit of a
feature map is described by

* ``jump``   -- input pixels between two neighbouring units (the effective stride),
* ``rf``     -- the number of input pixels a unit sees (the receptive field),
* ``center`` -- the centre of the first unit's field, in input pixel coordinates
  (pixel ``i`` has its centre at ``i``; padding makes it negative).

A window layer (convolution or pooling) with kernel ``k``, stride ``s``,
dilation ``d`` and leading padding ``p`` turns ``(jump, rf, center)`` into::

    k_eff      = d * (k - 1) + 1
    jump_out   = jump * s
    rf_out     = rf + (k_eff - 1) * jump
    center_out = center + ((k_eff - 1) / 2 - p) * jump

Where paths meet (residual addition, Inception or DenseNet concatenation) a
unit sees the union of what its inputs see; when the paths disagree on the
jump or on the centre of the first unit the table says so in its ``note``
column. The fields are those of the network in evaluation mode (BatchNorm
with its running statistics).

The modules, each importing only those above it:

* :mod:`.errors` -- the two errors raised on purpose;
* :mod:`.table` -- the table every result is, and its number formats;
* :mod:`.probe` -- the zero batch every instrument runs, in eval mode;
* :mod:`.geometry`, :mod:`.graph` -- receptive-field arithmetic, and the
  torch.fx engine that applies it node by node;
* :mod:`.diagnose` -- which layer an input is too small for, and what size works;
* :mod:`.shapes`, :mod:`.cost`, :mod:`.receptive_field` -- the instruments.
"""

from __future__ import annotations

from .cost import FlopCount, FlopRow, MemoryRow, MemoryUse, flops, memory
from .errors import InputTooSmallError, UnsupportedOperationError
from .receptive_field import (
    EffectiveReceptiveField,
    FieldRow,
    ReceptiveField,
    effective_receptive_field,
    plot_effective_receptive_field,
    receptive_field,
)
from .shapes import LayerShapes, ParamCount, ShapeRow, count_params, layer_shapes, summary

__all__ = [
    "EffectiveReceptiveField",
    "FieldRow",
    "FlopCount",
    "FlopRow",
    "InputTooSmallError",
    "LayerShapes",
    "MemoryRow",
    "MemoryUse",
    "ParamCount",
    "ReceptiveField",
    "ShapeRow",
    "UnsupportedOperationError",
    "count_params",
    "effective_receptive_field",
    "flops",
    "layer_shapes",
    "memory",
    "plot_effective_receptive_field",
    "receptive_field",
    "summary",
]
