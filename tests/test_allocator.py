"""reuse_freed_memory: glibc serves large blocks from its heap while training on a CPU, and maps them again after."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit import allocator

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt is glibc's; other C libraries allocate their own way")


# Whether glibc maps a block depends on the heap's history too (a large free chunk left by earlier tests serves
# a large request without mapping), so the allocation itself is watched in a fresh interpreter.
PRELUDE = """
import ctypes, torch
from coursekit import allocator

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
cpu = torch.device("cpu")

def mapped():
    # How many more bytes glibc holds in mmap'd blocks while a 64 MB tensor (over its largest threshold) lives.
    before = libc.mallinfo2().hblkhd
    big = torch.empty(16 * 1024 * 1024)
    during = libc.mallinfo2().hblkhd
    del big
    print(during - before)
"""
BIG = 64 * 1024 * 1024


def in_a_fresh_interpreter(code: str, **env: str) -> list[int]:
    """The numbers ``code`` prints, run after PRELUDE in a new Python."""
    result = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    return [int(line) for line in result.stdout.split()]


@glibc
def test_a_big_tensor_comes_from_the_heap_inside_and_from_mmap_outside():
    before, inside, after = in_a_fresh_interpreter("""
        mapped()
        with allocator.reuse_freed_memory(cpu) as acted:
            assert acted
            mapped()
        mapped()
    """)
    assert before >= BIG and inside == 0 and after >= BIG  # glibc's behaviour is back afterwards


@glibc
def test_nested_uses_restore_only_at_the_outermost_exit():
    between, after = in_a_fresh_interpreter("""
        with allocator.reuse_freed_memory(cpu):
            with allocator.reuse_freed_memory(cpu):
                pass
            mapped()
        mapped()
    """)
    assert between == 0 and after >= BIG


@glibc
def test_fit_leaves_it_off():
    (after,) = in_a_fresh_interpreter("""
        import coursekit as ck
        X, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
        ck.fit(torch.nn.Linear(4, 2), [(X, y)], [(X, y)], ck.TrainOptions(1, 0.1), "cpu", reporters=[])
        mapped()
    """)
    assert after >= BIG


@glibc
def test_switched_off_by_the_environment():
    acted, inside = in_a_fresh_interpreter("""
        with allocator.reuse_freed_memory(cpu) as acted:
            print(int(acted))
            mapped()
    """, **{allocator.ENV: "0"})
    assert acted == 0 and inside >= BIG


def test_fit_trains_with_it(monkeypatch):
    seen = []
    real = allocator.reuse_freed_memory

    def spy(device):
        seen.append(torch.device(device).type)
        return real(device)

    monkeypatch.setattr("coursekit.train.reuse_freed_memory", spy)
    X, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    ck.fit(nn.Linear(4, 2), [(X, y)], [(X, y)], ck.TrainOptions(1, 0.1), "cpu", reporters=[])
    assert seen == ["cpu"]


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
