"""coursekit.evaluate: accuracy, predictions and the confusion matrix agree, in eval mode."""

import pytest
import torch
from torch import nn

import coursekit as ck
from tests.helpers import small_lenet


@pytest.fixture(scope="module")
def test_iter(fashion_root):
    return ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=200, n_test=1000)[1]


def test_evaluate_accuracy_restores_training_mode(test_iter):
    net = small_lenet().train()
    accuracy = ck.evaluate_accuracy(net, test_iter)
    assert net.training and 0.0 <= accuracy <= 1.0


def test_evaluation_turns_dropout_off(test_iter):
    torch.manual_seed(0)
    net = nn.Sequential(small_lenet(), nn.Dropout(0.9)).train()
    assert ck.evaluate_accuracy(net, test_iter) == ck.evaluate_accuracy(net, test_iter)  # no random masks


def test_predict_and_confusion_matrix(test_iter):
    net = small_lenet()
    predicted, true = ck.predict(net, test_iter)
    assert predicted.shape == true.shape == (1000,)
    matrix = ck.confusion_matrix(predicted, true)
    assert matrix.shape == (10, 10) and matrix.sum() == 1000
    assert torch.equal(matrix.sum(dim=1), torch.bincount(true, minlength=10))  # rows are true classes
    assert torch.equal(matrix.sum(dim=0), torch.bincount(predicted, minlength=10))
    assert matrix.trace().item() / 1000 == pytest.approx(ck.evaluate_accuracy(net, test_iter))
    ax = ck.plot_confusion_matrix(matrix, ck.get_fashion_mnist_labels(range(10)))
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["t-shirt", "trouser"]


def test_confusion_matrix_by_hand():
    matrix = ck.confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), num_classes=3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
