"""Fixtures for the tests of coursekit.models."""

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run each test module on one CPU thread.

    The batches here are tiny, so OpenMP's thread synchronisation costs more
    than it saves, and on a loaded machine (shared CI runners) it is many
    times slower: on a busy 2-core machine GoogLeNet's training step took 6 s
    on two threads and 0.3 s on one.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
