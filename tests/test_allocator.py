"""reuse_freed_memory: glibc serves large blocks from its heap while training on a CPU, and maps them again after."""

import ctypes
import platform

import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit import allocator

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt is glibc's; other C libraries allocate their own way")


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def mapped_bytes_of_a_big_tensor() -> int:
    """How many more bytes glibc holds in mmap'd blocks while a 64 MB tensor is alive."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    before = libc.mallinfo2().hblkhd
    big = torch.empty(16 * 1024 * 1024)  # 64 MB: over glibc's largest mmap threshold
    during = libc.mallinfo2().hblkhd
    del big
    return during - before


@glibc
def test_a_big_tensor_comes_from_the_heap_inside_and_from_mmap_outside():
    assert mapped_bytes_of_a_big_tensor() >= 64 * 1024 * 1024
    with allocator.reuse_freed_memory(torch.device("cpu")) as acted:
        assert acted
        assert mapped_bytes_of_a_big_tensor() == 0
    assert mapped_bytes_of_a_big_tensor() >= 64 * 1024 * 1024  # glibc's behaviour is back


@glibc
def test_nested_uses_restore_only_at_the_outermost_exit():
    cpu = torch.device("cpu")
    with allocator.reuse_freed_memory(cpu):
        with allocator.reuse_freed_memory(cpu):
            pass
        assert mapped_bytes_of_a_big_tensor() == 0  # the inner exit did not switch it off
    assert mapped_bytes_of_a_big_tensor() > 0


@glibc
def test_fit_trains_with_it_and_leaves_it_off(monkeypatch):
    seen = []
    real = allocator.reuse_freed_memory

    def spy(device):
        seen.append(torch.device(device).type)
        return real(device)

    monkeypatch.setattr("coursekit.train.reuse_freed_memory", spy)
    X, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    ck.fit(nn.Linear(4, 2), [(X, y)], [(X, y)], ck.TrainOptions(1, 0.1), "cpu", reporters=[])
    assert seen == ["cpu"]
    assert mapped_bytes_of_a_big_tensor() > 0


@glibc
def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv(allocator.ENV, "0")
    with allocator.reuse_freed_memory(torch.device("cpu")) as acted:
        assert not acted
        assert mapped_bytes_of_a_big_tensor() > 0


def test_a_gpu_or_meta_device_is_left_alone():
    with allocator.reuse_freed_memory(torch.device("meta")) as acted:
        assert not acted


@pytest.mark.parametrize("value", ["yes", "2", "off", ""])
def test_a_bad_environment_value_says_what_to_set(monkeypatch, value):
    monkeypatch.setenv(allocator.ENV, value)
    with pytest.raises(ValueError, match=r"COURSEKIT_REUSE_FREED_MEMORY=.*set it to 1 .* or 0"):
        allocator.enabled()


@glibc
@pytest.mark.parametrize("value, says", [(None, "keeps freed memory"), ("0", "returns freed memory at once"),
                                         ("maybe", "problem: COURSEKIT_REUSE_FREED_MEMORY='maybe'")])
def test_doctor_says_whether_it_is_on(monkeypatch, capsys, value, says):
    if value is None:
        monkeypatch.delenv(allocator.ENV, raising=False)
    else:
        monkeypatch.setenv(allocator.ENV, value)
    from coursekit.cli import main

    main(["doctor"])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("memory:"))
    assert says in line
