"""coursekit.compare: model sizes, inference speed, and the capstone's comparison."""

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
    state_dict_bytes,
    weight_sparsity,
)


# One epoch of Adam on 300 images: the capstone's recipe on a smaller budget.
BUDGET = ck.recipe("capstone", "smoke").replace(num_epochs=1, lr=0.01, batch_size=50, n_train=300, n_test=100)


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
    table = compare_models(contenders, BUDGET, device="cpu", root=fashion_root)
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
    assert "300 training images x 1 epoch(s), adam lr 0.01 onecycle, batch 50, fp32" in text and "test acc" in text and "67x67" in text
    assert "<table>" in table._repr_html_()
    with pytest.raises(KeyError, match="LeNet"):
        table["VGG"]


def test_compare_models_is_reproducible(fashion_root):
    def run():
        return compare_models([Contender("LeNet", "lenet")], BUDGET.replace(n_train=200), device="cpu",
                              root=fashion_root, verbose=False)

    a, b = run(), run()
    assert a[0].history.train_loss == b[0].history.train_loss and a[0].test_acc == b[0].test_acc


def test_compare_models_rejects_bad_contenders():
    with pytest.raises(ValueError, match="at least one"):
        compare_models([], BUDGET)
    with pytest.raises(ValueError, match="distinct"):
        compare_models([Contender("a", "lenet"), Contender("a", "nin")], BUDGET)


def test_comparison_plot_and_pandas(fashion_root):
    table = compare_models([Contender("LeNet", "lenet"), Contender("BN-LeNet", "bn_lenet")],
                           BUDGET.replace(n_train=100, n_test=50), device="cpu", root=fashion_root, verbose=False)
    fig = table.plot()
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    pd = pytest.importorskip("pandas")
    frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == ["LeNet", "BN-LeNet"]
    assert frame.loc["LeNet", "params"] == 61_706
