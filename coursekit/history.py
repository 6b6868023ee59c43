"""What a training run leaves behind: one record per finished epoch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class History:
    """Per-epoch record of a training run.

    ``train_seconds`` times the training steps of each epoch and ``examples``
    counts the images they saw, so ``examples_per_sec`` (d2l's speed figure)
    is derived from the two and never stored; ``seconds`` is the wall time of
    the whole epoch, evaluation included. ``precision`` is the arithmetic the
    run used (``'fp32'``, ``'bf16'`` or ``'fp16'``) and ``channels_last`` its
    memory layout; ``fast_path`` what the probe measured when they were chosen
    with ``'auto'`` (:class:`coursekit.fast_path.FastPath` as a dict).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    examples: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    device: str = ""
    precision: str = "fp32"
    channels_last: bool = False
    fast_path: dict | None = None
    interrupted: bool = False

    def __len__(self) -> int:
        return len(self.train_loss)

    def append(self, *, train_loss: float, train_acc: float, test_acc: float, train_seconds: float, examples: int,
               seconds: float) -> None:
        """Record one finished epoch."""
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.test_acc.append(test_acc)
        self.train_seconds.append(train_seconds)
        self.examples.append(examples)
        self.seconds.append(seconds)

    @property
    def examples_per_sec(self) -> list[float]:
        """Training speed of each epoch, images per second of training steps (as d2l counts it)."""
        return [n / t for n, t in zip(self.examples, self.train_seconds)]

    def speed(self) -> float:
        """Training speed over the whole run: all images over all training seconds."""
        return sum(self.examples) / sum(self.train_seconds)

    def final_line(self) -> str:
        """d2l's closing line: ``loss 0.330, train acc 0.879, test acc 0.884, 4186.2 examples/sec on cuda:0``."""
        if not self:
            return "no finished epoch"
        return (
            f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, "
            f"test acc {self.test_acc[-1]:.3f}, {self.speed():.1f} examples/sec on {self.device}"
        )

    def epoch_line(self, epoch: int, num_epochs: int) -> str:
        """One line for epoch ``epoch`` (0-based): ``epoch 2/10: loss 0.512, train acc 0.811, ...``."""
        return (
            f"epoch {epoch + 1}/{num_epochs}: loss {self.train_loss[epoch]:.3f}, "
            f"train acc {self.train_acc[epoch]:.3f}, test acc {self.test_acc[epoch]:.3f}, "
            f"{self.examples_per_sec[epoch]:.1f} examples/sec"
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        """The inverse of :meth:`to_dict`; a record in another format is refused, with what is missing."""
        required = ("train_loss", "train_acc", "test_acc", "train_seconds", "examples")
        missing = [n for n in required if n not in data] if isinstance(data, dict) else list(required)
        if missing:
            raise ValueError(f"not a coursekit History (missing {', '.join(missing)}): it was written by another "
                             "program or an older coursekit; train afresh.")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def plot(self, ax=None, title: str | None = None):
        """Loss and accuracies against epochs; returns the axes."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.0))
        epochs = range(1, len(self) + 1)
        ax.plot(epochs, self.train_loss, "-o", label="train loss")
        ax.plot(epochs, self.train_acc, "--o", label="train acc")
        ax.plot(epochs, self.test_acc, "-.o", label="test acc")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        if title:
            ax.set_title(title)
        return ax
