"""What every check shares: how a verdict is printed and a few counts."""

from __future__ import annotations

from torch import nn


def _verdict(ok: bool, message: str) -> bool:
    print(("✔ " if ok else "✘ ") + message)
    return ok


def _unanswered(answer, what: str) -> bool:
    if answer is None:
        print(f"… not answered yet: replace None with {what} and run the cell again.")
        return True
    return False


def _count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _fc_share(net: nn.Module) -> tuple[int, float]:
    """Parameters in the network's Linear layers, and their fraction of all its parameters."""
    fc = sum(p.numel() for m in net.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    return fc, fc / _count(net)


def _share_slip(answer: float, expected: float) -> bool | None:
    """The verdict for the two usual slips in a "what fraction" answer, or None if it is neither."""
    if 1 < answer <= 100 and abs(answer / 100 - expected) < 0.01:
        return _verdict(False, f"That is a percentage; give a fraction between 0 and 1 ({answer / 100:.2f}).")
    if abs(answer - (1 - expected)) < 0.01:
        return _verdict(False, "That is the share of the convolutions; the question asks about the fully connected "
                        "layers.")
    return None


def _number(answer, what: str) -> float | None:
    """The answer as a float, or None after printing why it is not a number."""
    try:
        return float(answer)
    except (TypeError, ValueError):
        _verdict(False, f"Give {what} as a single number; you gave {answer!r}.")
        return None
