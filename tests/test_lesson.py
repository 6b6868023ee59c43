"""coursekit.lesson: the prologue, predictions that match their images, and the after-training report."""

import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit.lesson import Evaluation, prologue, report, show_predictions
from tests.helpers import small_lenet


def test_prologue_prints_the_profile_and_the_device(monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_PROFILE", "laptop")
    device = prologue(seed=3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("coursekit profile: laptop (from $COURSEKIT_PROFILE)")
    assert lines[1] == f"training on {device}" and device == ck.try_gpu()
    first = torch.rand(1)
    torch.manual_seed(3)
    assert torch.equal(first, torch.rand(1))  # seeded


class Oracle(nn.Module):
    """A 'network' that predicts the label it was told for each image (its first pixel encodes the index)."""

    def __init__(self, labels):
        super().__init__()
        self.labels = labels
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, X):
        index = X[:, 0, 0, 0].long()
        return nn.functional.one_hot(self.labels[index], 10).float()


def test_show_predictions_pairs_each_image_with_its_own_prediction(fashion_root):
    # A shuffling loader: another iteration would give other images, so the pairing must come from one batch.
    train_iter, _ = ck.load_data_fashion_mnist(16, root=fashion_root, device="cpu", n_train=64, n_test=16)
    train_iter.images = torch.arange(64, dtype=torch.uint8).view(64, 1, 1, 1).expand(64, 1, 28, 28).clone()
    train_iter.labels = torch.arange(64) % 10
    train_iter.epoch = 5
    predicted = (torch.arange(64) * 3) % 10
    axes = show_predictions(Oracle(predicted), _raw(train_iter), n=6)
    names = ck.get_fashion_mnist_labels(range(10))
    shown = [ax.get_title() for ax in axes[:6]]
    index = [int(round(ax.get_images()[0].get_array()[0, 0])) for ax in axes[:6]]
    assert shown == [f"{names[i % 10]}\n{names[predicted[i]]}" for i in index]


class _raw:
    """The loader's batches with pixel values 0..255 (no division by 255), so the oracle can read the index."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        for X, y in self.loader:
            yield X * 255, y


def test_report_measures_the_whole_test_set(fashion_root, capsys):
    train_iter, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=500, n_test=300)
    net = small_lenet()
    history = ck.fit(net, train_iter, test_iter, ck.TrainOptions(1, 0.1, momentum=0.9), "cpu", reporters=[])
    evaluation = report(net, test_iter, history)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == history.final_line() and out[1].startswith("test accuracy per epoch: [")
    assert isinstance(evaluation, Evaluation) and evaluation.matrix.sum() == 300
    assert evaluation.matrix.trace().item() / 300 == pytest.approx(history.test_acc[-1])
    assert repr(evaluation).startswith("Evaluation(300 test images, accuracy ")


def test_never_predicted_names_empty_columns():
    matrix = torch.zeros(10, 10, dtype=torch.int64)
    matrix[:, 0] = 5
    matrix[3, 3] = 1
    evaluation = Evaluation(torch.zeros(1), torch.zeros(1), matrix)
    assert evaluation.never_predicted() == [n for i, n in enumerate(ck.get_fashion_mnist_labels(range(10)))
                                            if i not in (0, 3)]


def test_versus_d2l_sets_both_budgets_and_results_side_by_side():
    from coursekit.recipes import D2L_RESULTS

    history = ck.History(device="cpu", precision="bf16")
    history.append(train_loss=0.412, train_acc=0.851, test_acc=0.809, train_seconds=100.0, examples=15_000,
                   seconds=110.0)
    table = ck.lesson.versus_d2l(ck.recipe("alexnet", "laptop"), history)
    rows = {what: (theirs, ours) for what, theirs, ours in table.rows if what}
    loss, train_acc, test_acc, speed = D2L_RESULTS["alexnet"]
    assert rows["test acc"] == (f"{test_acc:.3f}", "0.809")
    assert rows["train loss"] == (f"{loss:.3f}", "0.412")
    assert rows["images/s"] == (f"{speed:,} on a V100 GPU", "150 on cpu, bf16")
    assert rows["budget"] == ("60,000 train, 10,000 test", "15,000 train, 10,000 test")
    text = str(table)
    assert "10 epochs, sgd lr 0.01" in text and "3 epochs, sgd lr 0.01, momentum 0.9" in text
    lines = text.splitlines()
    assert lines[0].index("d2l (published") == lines[1].index("60,000 train") == lines[-1].index("3,942")  # aligned


def test_versus_d2l_refuses_what_d2l_never_ran():
    history = ck.History()
    history.append(train_loss=1.0, train_acc=0.5, test_acc=0.5, train_seconds=1.0, examples=10, seconds=1.0)
    with pytest.raises(ValueError, match="d2l published no run of 'lenet_modern'"):
        ck.lesson.versus_d2l(ck.recipe("lenet_modern", "laptop"), history)
    with pytest.raises(ValueError, match="no finished epoch"):
        ck.lesson.versus_d2l(ck.recipe("lenet", "laptop"), ck.History())
