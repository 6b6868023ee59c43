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
    with pytest.raises(ValueError, match="holds pickled Python objects"):
        ck.load_checkpoint(path, small_lenet())


def test_a_whole_pickled_model_gets_its_own_advice_without_terminal_codes(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(small_lenet(), path)
    with pytest.raises(ValueError) as info:
        ck.load_checkpoint(path, small_lenet())
    message = str(info.value)
    assert "holds pickled Python objects (such as a whole model saved with torch.save(net))" in message
    assert "weights_only=False" in message and "elete" not in message and "\x1b" not in message


def test_an_unreadable_checkpoint_is_not_called_damaged(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    ck.save_checkpoint(path, small_lenet())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(torch, "load", denied)
    with pytest.raises(PermissionError, match=r"cannot read the checkpoint .*run.pt: Permission denied; make it "
                                              r"readable \(chmod u\+r"):
        ck.load_checkpoint(path, small_lenet())


def test_a_failed_save_leaves_the_previous_checkpoint_and_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    ck.save_checkpoint(path, small_lenet())
    before = path.read_bytes()

    def full_disk(obj, f, *args, **kwargs):
        open(f, "wb").write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(ck.checkpoint.CheckpointError, match="could not write the checkpoint .*No space left on device"):
        ck.save_checkpoint(path, small_lenet())
    assert path.read_bytes() == before and not path.with_name("run.pt.tmp").exists()


def test_the_checkpoint_records_its_run(tmp_path, fashion_root):
    train_iter, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=300, n_test=100)
    path = tmp_path / "run.pt"
    ck.train_ch6(ck.models.lenet(), train_iter, test_iter, 1, 0.3, "cpu", momentum=0.5, checkpoint=path, verbose=False)
    info = ck.checkpoint.checkpoint_info(path)
    assert info["model"] == "lenet" and info["architecture"].startswith("Sequential-")
    assert (info["lr"], info["momentum"], info["optimizer"], info["num_epochs"]) == (0.3, 0.5, "sgd", 1)
    assert (info["batch_size"], info["n_train"], info["n_test"], info["image_size"]) == (100, 300, 100, [28, 28])
    assert info["epochs"] == 1
