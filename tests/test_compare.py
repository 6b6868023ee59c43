"""coursekit.compare: class subsets, validation splits, model sizes, and the capstone's comparison."""

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

import coursekit as ck
from coursekit.compare import (
    Comparison,
    Contender,
    compare_models,
    images_per_second,
    load_fashion_mnist_classes,
    load_fashion_mnist_validation,
    state_dict_bytes,
    weight_sparsity,
)
from coursekit.data import read_fashion_mnist


def test_class_subset_is_relabelled_and_complete(fashion_root):
    train_iter, test_iter = load_fashion_mnist_classes([5, 7, 9], 64, root=fashion_root, device="cpu")
    assert train_iter.class_names == ["sandal", "sneaker", "ankle boot"]
    assert train_iter.num_examples == 18_000 and test_iter.num_examples == 3_000  # 6,000 and 1,000 per class
    assert sorted(train_iter.labels.unique().tolist()) == [0, 1, 2]
    # the images are those of the original classes, in order
    images, labels = read_fashion_mnist("test", fashion_root)
    sneakers = images[labels == 7]
    assert torch.equal(test_iter.images[test_iter.labels == 1], sneakers)
    X, y = next(iter(test_iter))
    assert X.shape == (64, 1, 28, 28) and X.dtype == torch.float32 and y.max() <= 2


def test_class_subset_sizes_resize_and_seed(fashion_root):
    a, _ = load_fashion_mnist_classes([0, 1], 32, 32, n_train=100, n_test=50, root=fashion_root, device="cpu")
    b, _ = load_fashion_mnist_classes([0, 1], 32, 32, n_train=100, n_test=50, root=fashion_root, device="cpu")
    c, _ = load_fashion_mnist_classes([0, 1], 32, 32, n_train=100, n_test=50, root=fashion_root, device="cpu", seed=1)
    assert a.num_examples == 100 and torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    assert next(iter(a))[0].shape == (32, 1, 32, 32)


@pytest.mark.parametrize("classes", [[], [1, 1], [10], [0.5], [True]])
def test_class_subset_rejects_bad_classes(classes, fashion_root):
    with pytest.raises(ValueError, match="distinct ints from 0 to 9"):
        load_fashion_mnist_classes(classes, 64, root=fashion_root, device="cpu")


def test_class_subset_rejects_too_many_images(fashion_root):
    with pytest.raises(ValueError, match="n_train must be an int from 1 to 6,000"):
        load_fashion_mnist_classes([3], 64, n_train=6001, root=fashion_root, device="cpu")


def test_validation_split_is_disjoint_and_from_the_training_set(fashion_root):
    train_iter, valid_iter = load_fashion_mnist_validation(50, 1000, 300, root=fashion_root, device="cpu")
    assert (train_iter.num_examples, valid_iter.num_examples) == (1000, 300)
    images, _ = read_fashion_mnist("train", fashion_root)
    flat = images.flatten(1)
    order = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(train_iter.images.flatten(1), flat[order[:1000]])
    assert torch.equal(valid_iter.images.flatten(1), flat[order[1000:1300]])
    assert not valid_iter.shuffle and train_iter.shuffle
    with pytest.raises(ValueError, match="at most 60,000"):
        load_fashion_mnist_validation(50, 59_000, 2_000, root=fashion_root, device="cpu")
    with pytest.raises(ValueError, match="n_valid must be a positive int"):
        load_fashion_mnist_validation(50, 100, 0, root=fashion_root, device="cpu")


def test_state_dict_bytes_is_the_file_size(tmp_path):
    net = nn.Linear(100, 50)
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    # the same bytes but for the archive's folder name, which torch.save takes from the file name
    assert abs(state_dict_bytes(net) - path.stat().st_size) < 100
    assert 4 * (100 * 50 + 50) < state_dict_bytes(net) < 4 * (100 * 50 + 50) + 2000


def test_pruning_makes_zeros_but_not_a_smaller_file():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))
    assert weight_sparsity(net) == 0.0
    dense = state_dict_bytes(net)
    params = [(net[0], "weight"), (net[2], "weight")]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.9)
    assert math.isclose(weight_sparsity(net), 0.9, abs_tol=1e-3)
    for module, name in params:
        prune.remove(module, name)
    assert math.isclose(weight_sparsity(net), 0.9, abs_tol=1e-3)
    assert abs(state_dict_bytes(net) - dense) < 200  # zeros are stored like any other number (up to zip padding)
    with pytest.raises(ValueError, match="no Linear or Conv"):
        weight_sparsity(nn.ReLU())


def test_images_per_second_measures_and_restores_the_mode():
    net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10), nn.Dropout())
    net.train()
    speed = images_per_second(net, (1, 28, 28), batch_size=32, seconds=0.05)
    assert speed > 0 and net.training
    assert images_per_second(net, (1, 28, 28), batch_size=32, seconds=0.05, precision="bf16") > 0
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        images_per_second(net, (1, 1, 28, 28))


def test_compare_models_trains_each_contender_on_the_same_budget(fashion_root, capsys):
    contenders = [Contender("LeNet", "lenet_modern"), Contender("tiny NiN", "nin", resize=67, kwargs={"ratio": 16})]
    table = compare_models(contenders, num_epochs=1, lr=0.01, batch_size=50, n_train=300, n_test=100,
                           device="cpu", root=fashion_root)
    assert isinstance(table, Comparison) and len(table) == 2
    out = capsys.readouterr().out
    assert "LeNet" in out and "tiny NiN" in out and "images/s" in out
    lenet, nin = table["LeNet"], table[1]
    assert lenet.params == ck.count_params(ck.models.lenet_modern()).total
    assert lenet.flops == ck.flops(ck.models.lenet_modern(), (1, 1, 28, 28)).flops
    assert nin.side == 67 and nin.params == ck.count_params(ck.models.nin(ratio=16)).total
    for row in table:
        assert 0 <= row.test_acc <= 1 and row.images_per_sec > 0 and row.train_seconds > 0
        assert len(row.history) == 1
        assert math.isclose(row.images_per_sec * row.train_seconds, 300, rel_tol=1e-6)
    text = str(table)
    assert "300 training images x 1 epoch(s)" in text and "test acc" in text and "67x67" in text
    assert "<table>" in table._repr_html_()
    with pytest.raises(KeyError, match="LeNet"):
        table["VGG"]


def test_compare_models_is_reproducible(fashion_root):
    def run():
        return compare_models([Contender("LeNet", "lenet")], num_epochs=1, lr=0.01, batch_size=50, n_train=200,
                              n_test=100, device="cpu", root=fashion_root, verbose=False)

    a, b = run(), run()
    assert a[0].history.train_loss == b[0].history.train_loss and a[0].test_acc == b[0].test_acc


def test_compare_models_rejects_bad_contenders():
    with pytest.raises(ValueError, match="at least one"):
        compare_models([], num_epochs=1, lr=0.1, batch_size=10)
    with pytest.raises(ValueError, match="distinct"):
        compare_models([Contender("a", "lenet"), Contender("a", "nin")], num_epochs=1, lr=0.1, batch_size=10)


def test_comparison_plot_and_pandas(fashion_root):
    table = compare_models([Contender("LeNet", "lenet"), Contender("BN-LeNet", "bn_lenet")], num_epochs=1, lr=0.01,
                           batch_size=50, n_train=100, n_test=50, device="cpu", root=fashion_root, verbose=False)
    fig = table.plot()
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    pd = pytest.importorskip("pandas")
    frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == ["LeNet", "BN-LeNet"]
    assert frame.loc["LeNet", "params"] == 61_706
