"""coursekit.checkpoint: a saved run loads back exactly; anything else is refused with the reason."""

import pytest
import torch
from torch import nn

import coursekit as ck
from tests.helpers import small_lenet


@pytest.fixture(scope="module")
def subset(fashion_root):
    return ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=1000, n_test=500)


def test_round_trip(subset, tmp_path):
    train_iter, test_iter = subset
    net = small_lenet()
    path = tmp_path / "ckpt" / "lenet.pt"
    history = ck.train_ch6(net, train_iter, test_iter, 2, 0.1, "cpu", momentum=0.9, checkpoint=path, verbose=False)
    assert path.is_file() and not path.with_name("lenet.pt.tmp").exists()

    fresh = small_lenet()
    optimizer = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    loaded = ck.load_checkpoint(path, fresh, optimizer)
    assert loaded == history
    for (name, a), (_, b) in zip(net.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), name
    # The momentum buffers came back too, so training resumes where it stopped.
    assert all("momentum_buffer" in s for s in optimizer.state.values()) and len(optimizer.state) == 10
    assert ck.evaluate_accuracy(fresh, test_iter) == pytest.approx(history.test_acc[-1])


def test_errors_name_the_file_and_the_problem(tmp_path):
    net = small_lenet()
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        ck.load_checkpoint(tmp_path / "missing.pt", net)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pt is not a readable coursekit checkpoint"):
        ck.load_checkpoint(garbage, net)
    other = tmp_path / "other.pt"
    ck.save_checkpoint(other, nn.Linear(3, 2))
    with pytest.raises(ValueError, match="different architecture"):
        ck.load_checkpoint(other, net)
    not_ours = tmp_path / "weights.pt"
    torch.save({"weights": net.state_dict()}, not_ours)
    with pytest.raises(ValueError, match="no 'model' entry"):
        ck.load_checkpoint(not_ours, net)


def test_a_history_in_another_format_is_refused(tmp_path):
    path = tmp_path / "old.pt"
    net = small_lenet()
    torch.save({"model": net.state_dict(), "history": {"train_loss": [1.0], "examples_per_sec": [5.0]}}, path)
    with pytest.raises(ValueError, match="old.pt: its history is not a coursekit History"):
        ck.load_checkpoint(path, net)


class NotData:
    pass


def test_checkpoints_load_weights_only(tmp_path):
    # A pickle with arbitrary objects is refused: loading a checkpoint never runs code.
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": NotData()}, path)
    with pytest.raises(ValueError, match="not a readable coursekit checkpoint"):
        ck.load_checkpoint(path, small_lenet())
