"""Fixtures for the tests of coursekit.inspect."""

import pytest
import torch


@pytest.fixture(autouse=True)
def seeded() -> None:
    """Random weights, but the same ones on every run."""
    torch.manual_seed(0)
