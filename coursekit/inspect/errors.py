"""The two errors the instruments raise on purpose.

They live in a module of their own, imported by everyone and importing
nothing, so that the geometry engine (:mod:`.graph`) and the failure
diagnosis (:mod:`.diagnose`) can both raise them without importing each other.
"""

from __future__ import annotations


class InputTooSmallError(ValueError):
    """The input is too small: some layer shrinks the feature map to nothing.

    Attributes:
        layer: name of the first layer whose output has no unit left.
        input_size: the input size that was given, batch included.
        smallest_input_size: the smallest ``(N, C, H, W)`` for which no layer
            shrinks the map to nothing (height and width searched separately).
    """

    def __init__(self, message: str, layer: str, input_size: tuple[int, ...],
                 smallest_input_size: tuple[int, ...] | None) -> None:
        super().__init__(message)
        self.layer = layer
        self.input_size = input_size
        self.smallest_input_size = smallest_input_size


class UnsupportedOperationError(NotImplementedError):
    """:func:`~coursekit.inspect.receptive_field` met an operation whose geometry it does not know.

    It is raised rather than skipping the operation, because skipping it would
    silently give a wrong receptive field.
    """
