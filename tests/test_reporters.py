"""coursekit.reporters: the loop calls every hook in order; the stock reporters show and save the run."""

import json

import pytest
from torch import nn

import coursekit as ck
from coursekit.reporters import (
    EpochLines,
    FinalLine,
    LiveCurves,
    ProgressBar,
    Reporter,
    SaveFiles,
    default_reporters,
    notebook_reporters,
    terminal_reporters,
)
from coursekit.train import TrainOptions, fit
from tests.helpers import Tripwire, small_lenet


class Recorder(Reporter):
    def __init__(self):
        self.calls = []

    def on_start(self, run):
        self.calls.append(("start", run.num_epochs, run.num_batches, run.first_epoch))

    def on_batch(self, run, epoch, batch, metrics):
        self.calls.append(("batch", epoch, batch, None if metrics is None else sorted(metrics)))

    def on_epoch(self, run, epoch):
        self.calls.append(("epoch", epoch, len(run.history)))

    def on_interrupt(self, run, epoch, batch):
        self.calls.append(("interrupt", epoch, batch))

    def on_end(self, run):
        self.calls.append(("end", len(run.history)))


@pytest.fixture(scope="module")
def subset(fashion_root):
    # 10 batches per epoch: the metrics are read after batches 3, 6, 9 and 10.
    return ck.load_data_fashion_mnist(50, root=fashion_root, device="cpu", n_train=500, n_test=100)


def test_hooks_are_called_in_order(subset):
    recorder = Recorder()
    fit(small_lenet(), *subset, TrainOptions(2, 0.05), "cpu", reporters=[recorder])
    assert recorder.calls[0] == ("start", 2, 10, 0)
    batches = [c for c in recorder.calls if c[0] == "batch"]
    assert [(c[1], c[2]) for c in batches] == [(e, b) for e in range(2) for b in range(1, 11)]
    with_metrics = [(c[1], c[2]) for c in batches if c[3] is not None]
    assert with_metrics == [(e, b) for e in range(2) for b in (3, 6, 9, 10)]
    assert all(c[3] == ["train acc", "train loss"] for c in batches if c[3] is not None)
    assert [c for c in recorder.calls if c[0] == "epoch"] == [("epoch", 0, 1), ("epoch", 1, 2)]
    assert recorder.calls[-1] == ("end", 2)


def test_an_interrupted_run_reports_where_it_stopped(subset, capsys):
    recorder = Recorder()
    net = nn.Sequential(Tripwire(at=14, action="interrupt"), small_lenet())
    history = fit(net, *subset, TrainOptions(3, 0.05), "cpu", reporters=[recorder, FinalLine()])
    assert history.interrupted and recorder.calls[-2:] == [("interrupt", 1, 4), ("end", 1)]
    out = capsys.readouterr().out
    assert "Interrupted in epoch 2, batch 4: returning the 1 finished epoch(s)." in out
    assert out.strip().splitlines()[-1].startswith("loss ")  # the finished epoch's line


def test_save_files_writes_the_history_and_the_curves(subset, tmp_path):
    history = fit(small_lenet(), *subset, TrainOptions(2, 0.05), "cpu", reporters=[SaveFiles(tmp_path / "run", "LeNet")])
    saved = ck.History.from_dict(json.loads((tmp_path / "run" / "history.json").read_text()))
    assert saved == history
    assert (tmp_path / "run" / "curves.png").stat().st_size > 1000


def test_a_resumed_run_says_so(subset, tmp_path, capsys):
    path = tmp_path / "run.pt"
    fit(small_lenet(), *subset, TrainOptions(1, 0.05, checkpoint=path), "cpu", reporters=[])
    recorder = Recorder()
    fit(small_lenet(), *subset, TrainOptions(2, 0.05, checkpoint=path, resume=True), "cpu",
        reporters=[recorder, FinalLine()])
    assert recorder.calls[0] == ("start", 2, 10, 1)
    assert f"Resuming from {path} after epoch 1." in capsys.readouterr().out


def test_epoch_lines_and_bar_in_a_terminal(subset, capsys):
    fit(small_lenet(), *subset, TrainOptions(2, 0.05), "cpu", reporters=[ProgressBar(), EpochLines()])
    captured = capsys.readouterr()
    assert [line[:10] for line in captured.out.splitlines()] == ["epoch 1/2:", "epoch 2/2:"]
    assert "20/20" in captured.err


def test_the_stock_sets():
    assert [type(r) for r in notebook_reporters()] == [LiveCurves, ProgressBar, FinalLine]
    assert [type(r) for r in terminal_reporters()] == [ProgressBar, EpochLines, FinalLine]
    assert [type(r) for r in default_reporters()] == [ProgressBar, EpochLines, FinalLine]  # pytest is no notebook


def test_live_curves_draw_every_sync_and_epoch(subset):
    curves = LiveCurves()
    fit(small_lenet(), *subset, TrainOptions(2, 0.05), "cpu", reporters=[curves])
    # Points inside an epoch for the training curves, one per epoch for the test accuracy.
    assert curves.figure.xs["test acc"] == [1, 2]
    assert curves.figure.xs["train loss"] == [0.3, 0.6, 0.9, 1, 1.3, 1.6, 1.9, 2]
