"""Exercise checks for chapter 10 the cost of an architecture."""

from __future__ import annotations

from ._verdicts import _unanswered, _verdict  # noqa: F401

__all__: list[str] = []
