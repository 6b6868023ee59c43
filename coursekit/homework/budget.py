"""The "build and train under a budget" task of every assignment, judged by thresholds.

A budget says what a network may cost and what it must reach::

    budget = Budget(min_accuracy=ck.for_profile(smoke=0.3, laptop=0.83, full=0.88), max_params=60_000,
                    max_seconds=ck.for_profile(smoke=None, laptop=600, full=600))
    budget.check(net, history, test_iter)     # one line per threshold, then the verdict

The cost is measured by coursekit itself (:func:`coursekit.count_params`,
:func:`coursekit.flops` on one image), the accuracy on the test images handed in
(the grader hands the real test set of the profile in force), and the training
time is the sum of ``history.train_seconds`` (the training steps, evaluation
excluded). The assignments set no time threshold in the ``smoke`` profile: CI runs
on shared machines, whose speed says nothing about the network. Like every check, it prints and returns a
:class:`~coursekit.check.verdict.Verdict` and never raises because of the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from ..check.verdict import Verdict
from ..evaluate import evaluate_accuracy
from ..history import History
from ..inspect import count_params, flops


@dataclass(frozen=True)
class Budget:
    """What a network may cost and must reach; a threshold left ``None`` is not checked.

    Args:
        min_accuracy: the least test accuracy, a fraction.
        max_params: the most parameters.
        max_flops: the most FLOPs of one forward pass of one image (2 per multiply-add).
        max_seconds: the most training seconds (``history.train_seconds`` summed).
        input_size: one image, ``(1, C, H, W)``, for the FLOPs.
    """

    min_accuracy: float
    max_params: int | None = None
    max_flops: int | None = None
    max_seconds: float | None = None
    input_size: Sequence[int] = (1, 1, 28, 28)

    def __str__(self) -> str:
        terms = [f"test accuracy at least {self.min_accuracy:.0%}"]
        if self.max_params is not None:
            terms.append(f"at most {self.max_params:,} parameters")
        if self.max_flops is not None:
            terms.append(f"at most {self.max_flops:,} FLOPs per {'x'.join(map(str, self.input_size[1:]))} image")
        if self.max_seconds is not None:
            terms.append(f"at most {self.max_seconds:g} s of training")
        return "; ".join(terms)

    def measure(self, net: nn.Module, history: History, test_iter) -> dict[str, float]:
        """The network's parameters, FLOPs, training seconds and test accuracy."""
        return {"params": count_params(net).total, "flops": flops(net, tuple(self.input_size)).flops,
                "seconds": sum(history.train_seconds), "accuracy": evaluate_accuracy(net, test_iter)}

    def check(self, net: nn.Module, history: History, test_iter) -> Verdict:
        """Print one line per threshold and the verdict; right only when every threshold is met."""
        if not isinstance(net, nn.Module) or not isinstance(history, History):
            verdict = Verdict(None if net is None else False,
                              "not answered yet: build `net`, train it with ck.fit and keep its `history`."
                              if net is None else f"give your nn.Module and the History ck.fit returned; got "
                              f"{type(net).__name__} and {type(history).__name__}.")
            print(verdict.line)
            return verdict
        try:
            got = self.measure(net, history, test_iter)
        except Exception as error:  # the learner's network failed on a test image: say how
            verdict = Verdict(False, f"your network could not be measured: {type(error).__name__}: "
                                     f"{str(error).splitlines()[0] if str(error) else ''}")
            print(verdict.line)
            return verdict
        limits = [("test accuracy", got["accuracy"], self.min_accuracy, ">=", "{:.1%}"),
                  ("parameters", got["params"], self.max_params, "<=", "{:,}"),
                  ("FLOPs", got["flops"], self.max_flops, "<=", "{:,}"),
                  ("training seconds", got["seconds"], self.max_seconds, "<=", "{:.1f}")]
        failed = []
        for name, value, limit, op, style in limits:
            if limit is None:
                continue
            ok = value >= limit if op == ">=" else value <= limit
            print(f"  {'✔' if ok else '✘'} {name}: {style.format(value)} (needs {op} {style.format(limit)})")
            if not ok:
                failed.append(name)
        verdict = Verdict(not failed, f"within the budget: {self}." if not failed else
                          f"over budget or under target on {', '.join(failed)}: see the lines above.")
        print(verdict.line)
        return verdict
