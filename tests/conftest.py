"""Shared fixtures: the real Fashion-MNIST, found the way learners find it."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")

from coursekit.data import DatasetNotFoundError, find_fashion_mnist  # noqa: E402


@pytest.fixture(scope="session")
def fashion_root():
    """Folder with the real Fashion-MNIST files; CI must have it (`.ci/run` installs it)."""
    try:
        return find_fashion_mnist(download=False)
    except DatasetNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the real dataset: {error}")
        pytest.skip(f"Fashion-MNIST not available offline here: {error}")
