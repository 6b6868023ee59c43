"""Exercise checks for chapter 06 batch normalization."""

from __future__ import annotations

from ._verdicts import _unanswered, _verdict  # noqa: F401

__all__: list[str] = []
