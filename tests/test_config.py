import random

import numpy as np
import pytest
import torch

from coursekit import config


@pytest.fixture
def no_profile(monkeypatch):
    monkeypatch.delenv(config.PROFILE_ENV, raising=False)


@pytest.mark.parametrize("value", ["smoke", "laptop", "full", " Laptop "])
def test_profile_from_environment(monkeypatch, value):
    monkeypatch.setenv(config.PROFILE_ENV, value)
    assert config.get_profile() == value.strip().lower()


def test_unknown_profile_lists_valid_ones(monkeypatch):
    monkeypatch.setenv(config.PROFILE_ENV, "fast")
    with pytest.raises(ValueError) as info:
        config.get_profile()
    message = str(info.value)
    assert "'fast'" in message
    for name in config.PROFILES:
        assert name in message


@pytest.mark.parametrize("cuda, expected", [(True, "full"), (False, "laptop")])
def test_default_profile_follows_cuda(monkeypatch, no_profile, cuda, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert config.get_profile() == expected


def test_pytest_runs_in_smoke_unless_told_otherwise():
    # The repository's conftest.py sets smoke; nbval kernels inherit it.
    import os

    assert os.environ.get(config.PROFILE_ENV) in config.PROFILES


def test_for_profile_picks_the_profile_in_force(monkeypatch):
    for name in config.PROFILES:
        monkeypatch.setenv(config.PROFILE_ENV, name)
        assert config.for_profile(smoke="s", laptop="l", full="f") == name[0]


def test_describe_profile_says_how_to_change_it(monkeypatch):
    monkeypatch.setenv(config.PROFILE_ENV, "smoke")
    line = config.describe_profile()
    assert "smoke" in line and config.PROFILE_ENV in line and "laptop" in line


@pytest.mark.parametrize(
    "cuda, count, mps, expected",
    [(True, 2, True, "cuda:0"), (False, 0, True, "mps"), (False, 0, False, "cpu")],
)
def test_try_gpu_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, count, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert config.try_gpu() == torch.device(expected)


def test_try_gpu_falls_back_when_index_is_missing(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert config.try_gpu(1) == torch.device("cpu")
    assert config.try_all_gpus() == [torch.device("cuda:0")]


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    config.seed_everything(123)
    first = draw()
    config.seed_everything(123)
    second = draw()
    config.seed_everything(124)
    third = draw()
    assert first[:2] == second[:2] and torch.equal(first[2], second[2])
    assert not torch.equal(first[2], third[2])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_everything_rejects_nonsense(seed):
    with pytest.raises(ValueError, match="non-negative int"):
        config.seed_everything(seed)


@pytest.mark.parametrize("device, message", [
    ("tpu", "'tpu' is not a device PyTorch knows"),
    ("cuda:99", "'cuda:99': this machine has"),
    ("xpu", "coursekit trains on 'cpu', 'cuda' or 'mps'"),
])
def test_a_device_this_machine_lacks_is_explained(device, message):
    with pytest.raises(ValueError, match=message) as info:
        config.check_device(device)
    assert f"coursekit.try_gpu() picks the best device this machine has ({config.try_gpu()})" in str(info.value) or \
        "coursekit.try_gpu() for the best one here" in str(info.value)


def test_check_device_passes_what_exists():
    assert config.check_device("cpu") == torch.device("cpu")
    assert config.check_device(None) == config.try_gpu()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            config.check_device("cuda")
