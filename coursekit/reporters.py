"""What a training run shows and records while it runs: reporters.

The loop in :func:`coursekit.fit` only trains; everything it shows or writes
goes through reporters, small objects whose hooks it calls:

* ``on_start(run)`` before the first batch (``run.first_epoch > 0`` when resuming),
* ``on_batch(run, epoch, batch, metrics)`` after every batch; ``metrics``
  (running ``train loss`` and ``train acc`` of the epoch) only the few times
  per epoch the loop reads them from the device, None otherwise,
* ``on_epoch(run, epoch)`` after each finished epoch (``run.history`` has it),
* ``on_interrupt(run, epoch, batch)`` when Ctrl-C stopped the run,
* ``on_end(run)`` at the end, interrupted or not.

A notebook shows a live figure, a progress bar and the final line
(:func:`notebook_reporters`); a terminal a progress bar and one line per epoch
(:func:`terminal_reporters`); the command line also writes its files
(:class:`SaveFiles`). Write your own by subclassing :class:`Reporter`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .fast_path import FastPath
from .history import History
from .plot import LiveFigure, in_notebook


@dataclass
class Run:
    """What reporters know about the run in progress."""

    num_epochs: int
    num_batches: int  # per epoch
    first_epoch: int  # epochs already done when this call started (a resumed run)
    device: str
    history: History
    checkpoint: str | None = None
    fast_path: FastPath | None = None  # what precision="auto" measured
    saved_epochs: int = 0  # epochs in the checkpoint file (fewer than the history's if a save was interrupted)


class Reporter:
    """Base class: every hook does nothing; override the ones you need."""

    def on_start(self, run: Run) -> None:
        pass

    def on_batch(self, run: Run, epoch: int, batch: int, metrics: dict[str, float] | None) -> None:
        pass

    def on_epoch(self, run: Run, epoch: int) -> None:
        pass

    def on_interrupt(self, run: Run, epoch: int, batch: int) -> None:
        pass

    def on_end(self, run: Run) -> None:
        pass


class LiveCurves(Reporter):
    """The learning curves, drawn during training and redrawn in place (in Jupyter)."""

    NAMES = ("train loss", "train acc", "test acc")

    def on_start(self, run: Run) -> None:
        self.figure = LiveFigure(self.NAMES, xlim=(0, run.num_epochs))
        for epoch in range(run.first_epoch):
            self._add_epoch(run.history, epoch)

    def _add_epoch(self, history: History, epoch: int) -> None:
        self.figure.add(epoch + 1, {"train loss": history.train_loss[epoch], "train acc": history.train_acc[epoch],
                                    "test acc": history.test_acc[epoch]})

    def on_batch(self, run: Run, epoch: int, batch: int, metrics: dict[str, float] | None) -> None:
        if metrics is not None and batch < run.num_batches:  # the epoch's end is drawn with its test accuracy
            self.figure.add(epoch + batch / run.num_batches, metrics)
            self.figure.draw()

    def on_epoch(self, run: Run, epoch: int) -> None:
        self._add_epoch(run.history, epoch)
        self.figure.draw()


class ProgressBar(Reporter):
    """A tqdm bar over all the batches of the run: a widget in Jupyter, text on stderr elsewhere.

    In Jupyter the finished bar is replaced by its last line of text, so that a notebook saved with
    its outputs shows how the run ended wherever it is read (GitHub, nbviewer), where a widget would
    show only the text of its first state, "0%".
    """

    def on_start(self, run: Run) -> None:
        total = (run.num_epochs - run.first_epoch) * run.num_batches
        self.handle = None
        if in_notebook():
            try:
                from IPython.display import display
                from tqdm.notebook import tqdm

                self.bar = tqdm(total=total, unit="batch", display=False)
                self.handle = display(self.bar.container, display_id=True)
                return
            except ImportError:  # no ipywidgets: the text bar below
                pass
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="batch")

    def on_batch(self, run: Run, epoch: int, batch: int, metrics: dict[str, float] | None) -> None:
        self.bar.update(1)
        if metrics is not None:
            self.bar.set_postfix(epoch=epoch + 1, loss=f"{metrics['train loss']:.3f}",
                                 acc=f"{metrics['train acc']:.3f}")

    def on_end(self, run: Run) -> None:
        self.bar.close()
        if self.handle is not None:
            self.handle.update({"text/plain": str(self.bar)}, raw=True)


class EpochLines(Reporter):
    """One line per finished epoch on stdout (through tqdm, so that a bar on stderr stays intact)."""

    def on_epoch(self, run: Run, epoch: int) -> None:
        from tqdm import tqdm

        tqdm.write(run.history.epoch_line(epoch, run.num_epochs))


class FinalLine(Reporter):
    """d2l's closing line at the end; a line for the measured arithmetic, a resumed or an interrupted run."""

    def on_start(self, run: Run) -> None:
        if run.fast_path is not None:
            print(run.fast_path.describe(), flush=True)
        if run.first_epoch:
            print(f"Resuming from {run.checkpoint} after epoch {run.first_epoch}.", flush=True)

    def on_interrupt(self, run: Run, epoch: int, batch: int) -> None:
        saved = f"; {run.checkpoint} holds {run.saved_epochs} of them" if run.checkpoint else ""
        print(f"Interrupted in epoch {epoch + 1}, batch {batch}: returning the {len(run.history)} finished "
              f"epoch(s){saved}.", flush=True)

    def on_end(self, run: Run) -> None:
        if len(run.history):
            print(run.history.final_line(), flush=True)


class SaveFiles(Reporter):
    """Writes ``history.json`` and ``curves.png`` to ``folder`` after every epoch and at the end."""

    def __init__(self, folder: str | Path, title: str = "") -> None:
        self.folder = Path(folder)
        self.title = title

    def save(self, history: History) -> None:
        import matplotlib.pyplot as plt

        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "history.json").write_text(json.dumps(history.to_dict(), indent=1))
        ax = history.plot(title=self.title)
        ax.figure.savefig(self.folder / "curves.png", dpi=120, bbox_inches="tight")
        plt.close(ax.figure)

    def on_epoch(self, run: Run, epoch: int) -> None:
        self.save(run.history)

    def on_end(self, run: Run) -> None:
        if len(run.history):
            self.save(run.history)


def notebook_reporters() -> list[Reporter]:
    """Live curves, a progress bar and the final line: what a training cell shows."""
    return [LiveCurves(), ProgressBar(), FinalLine()]


def terminal_reporters() -> list[Reporter]:
    """A progress bar, a line per epoch and the final line: what a script shows."""
    return [ProgressBar(), EpochLines(), FinalLine()]


def default_reporters() -> list[Reporter]:
    """:func:`notebook_reporters` in Jupyter, :func:`terminal_reporters` elsewhere."""
    return notebook_reporters() if in_notebook() else terminal_reporters()


def end_all(reporters: list[Reporter], run: Run) -> None:
    """Every reporter's ``on_end``, even after one fails (a second Ctrl-C while files are written): a progress
    bar still closes; the first failure is raised afterwards."""
    failure = None
    for reporter in reporters:
        try:
            reporter.on_end(run)
        except BaseException as error:  # noqa: BLE001 - re-raised below, after the others have run
            failure = failure or error
    if failure is not None:
        raise failure
