"""Exercise checks for chapter 11 design and training."""

from __future__ import annotations

from ._verdicts import _unanswered, _verdict  # noqa: F401

__all__: list[str] = []
