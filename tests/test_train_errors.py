"""fit's promises when things go wrong: wrong inputs explained before training, a checkpoint that cannot be
written found out before training (or reported with the history when the disk fills up), and a resume that
refuses to turn into another run."""

import pytest
import torch
from torch import nn

import coursekit as ck
import coursekit.checkpoint
from coursekit.checkpoint import CheckpointError, checkpoint_info
from coursekit.reporters import FinalLine
from coursekit.train import DIVERGED_FACTOR, TrainingDiverged, TrainOptions, fit
from tests.helpers import small_lenet


@pytest.fixture(scope="module")
def subset(fashion_root):
    return ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=500, n_test=200)


def train(net, subset, epochs=1, **options):
    return ck.train_ch6(net, *subset, epochs, options.pop("lr", 0.1), "cpu", verbose=False, **options)


# --- silent wrong results ------------------------------------------------------------------------


def test_a_seeded_run_is_the_same_run_however_the_net_was_built(subset):
    # Built without seeding, trained twice on the same loaders: the seed alone decides (biases and shuffles too).
    torch.manual_seed(1)
    a = train(small_lenet(), subset, 2, seed=0)
    torch.manual_seed(2)
    b = train(small_lenet(), subset, 2, seed=0)
    assert a.train_loss == b.train_loss and a.test_acc == b.test_acc
    assert train(small_lenet(), subset, 2, seed=1).train_loss != a.train_loss


def test_xavier_redraws_biases_in_pytorchs_range():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 5), nn.Flatten(), nn.Linear(8, 4))
    before = [m.bias.detach().clone() for m in (net[0], net[2])]
    ck.init_weights(net, method="xavier")
    for module, old in zip((net[0], net[2]), before):
        bound = 1 / module.weight[0].numel() ** 0.5
        assert not torch.equal(module.bias, old) and module.bias.abs().max() <= bound


def test_a_finite_blow_up_is_divergence(subset):
    with pytest.raises(TrainingDiverged, match=rf"grew from .* more than {DIVERGED_FACTOR} times its first value") as info:
        train(ck.models.lenet(), subset, 2, lr=1e4)
    assert "smaller learning rate" in str(info.value) and isinstance(info.value.history, ck.History)


def test_a_run_that_learns_is_not_called_diverged(subset):
    assert len(train(ck.models.lenet_modern(), subset, 2, lr=0.5, momentum=0.9)) == 2


def test_an_empty_test_set_is_refused(subset):
    with pytest.raises(ValueError, match="test_iter yields no batch"):
        train(small_lenet(), (subset[0], []))


def test_a_train_iterator_without_length_is_explained(subset):
    with pytest.raises(TypeError, match="train_iter must know its length"):
        train(small_lenet(), (iter(list(subset[0])), subset[1]))


# --- unclear errors ------------------------------------------------------------------------------


def test_the_model_function_instead_of_a_model(subset):
    with pytest.raises(TypeError, match=r"fit needs a model, got the function lenet: call it to build one, lenet\(\)"):
        train(ck.models.lenet, subset)


def test_fewer_outputs_than_classes(subset):
    with pytest.raises(ValueError, match="gives 5 scores per image, but the labels run from 0 to 9: build it with "
                                         "at least 10 outputs"):
        train(nn.Sequential(nn.Flatten(), nn.Linear(784, 5)), subset)


def test_an_output_that_is_not_one_row_per_image(subset):
    with pytest.raises(ValueError, match=r"output has shape \(100, 6, 28, 28\)"):
        train(nn.Conv2d(1, 6, 5, padding=2), subset)


def test_a_float64_network_is_explained(subset):
    with pytest.raises(TypeError, match="parameters are torch.float64 but the images are torch.float32"):
        train(small_lenet().double(), subset)


def test_uint8_images_are_explained():
    X, y = torch.randint(0, 255, (64, 1, 28, 28), dtype=torch.uint8), torch.randint(0, 10, (64,))
    with pytest.raises(TypeError, match=r"images are torch.uint8, not floating point: convert them, e.g. X.float\(\) / 255"):
        train(small_lenet(), ([(X, y)], [(X.float(), y)]))


def test_a_gpu_this_machine_lacks_is_explained(subset):
    with pytest.raises(ValueError, match=r"'cuda:99'.*coursekit.try_gpu\(\)"):
        ck.train_ch6(small_lenet(), *subset, 1, 0.1, "cuda:99", verbose=False)


def test_nan_weight_decay_blames_weight_decay_not_lr(subset):
    with pytest.raises(ValueError, match="weight_decay must be a number >= 0, got nan"):
        train(small_lenet(), subset, weight_decay=float("nan"))


# --- checkpoints that cannot be written -------------------------------------------------------------


class Spy(FinalLine):
    started = False

    def on_start(self, run):
        self.started = True


@pytest.mark.parametrize("where, match", [
    ("folder", "is a folder; give a file path"),
    ("under_a_file", "cannot write the checkpoint .*under_a_file"),
])
def test_an_unwritable_checkpoint_fails_before_training(subset, tmp_path, where, match):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    path = tmp_path / "folder" if where == "folder" else tmp_path / "afile" / "under_a_file.pt"
    spy = Spy()
    with pytest.raises(CheckpointError, match=match):
        fit(small_lenet(), *subset, TrainOptions(1, 0.1, checkpoint=path), "cpu", reporters=[spy])
    assert not spy.started and not list(tmp_path.rglob("*.tmp"))


def test_a_read_only_folder_fails_before_training(subset, tmp_path, monkeypatch):
    def read_only(self, data):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(coursekit.checkpoint.Path, "write_bytes", read_only)
    with pytest.raises(CheckpointError, match=r"cannot write the checkpoint .*run.pt: Permission denied"):
        train(small_lenet(), subset, checkpoint=tmp_path / "run.pt")


def fail_from_the_second_save(monkeypatch, error):
    real_save, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) > 1:
            raise error
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(coursekit.checkpoint.torch, "save", save)


def test_a_full_disk_keeps_the_history_and_the_last_good_checkpoint(subset, tmp_path, monkeypatch):
    # What torch's zip writer raises when the disk fills up mid-file.
    fail_from_the_second_save(monkeypatch, RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos "
                                                        "12864 vs 12816"))
    path = tmp_path / "run.pt"
    with pytest.raises(CheckpointError) as info:
        train(small_lenet(), subset, 3, checkpoint=path)
    message = str(info.value)
    assert f"could not write the checkpoint {path}" in message and "disk full" in message
    assert "2 epoch(s) trained, 1 of them in the checkpoint" in message
    assert len(info.value.history) == 2
    assert checkpoint_info(path)["epochs"] == 1 and not path.with_name("run.pt.tmp").exists()


def test_ctrl_c_during_a_save_reports_what_is_on_disk(subset, tmp_path, monkeypatch, capsys):
    fail_from_the_second_save(monkeypatch, KeyboardInterrupt())
    path = tmp_path / "run.pt"
    history = fit(small_lenet(), *subset, TrainOptions(3, 0.1, checkpoint=path), "cpu", reporters=[FinalLine()])
    assert history.interrupted and len(history) == 2
    assert f"returning the 2 finished epoch(s); {path} holds 1 of them." in capsys.readouterr().out
    assert checkpoint_info(path)["epochs"] == 1 and not path.with_name("run.pt.tmp").exists()


# --- resuming is continuing the same run ---------------------------------------------------------


@pytest.fixture
def one_epoch(subset, tmp_path):
    path = tmp_path / "run.pt"
    train(ck.models.lenet(), subset, 1, lr=0.9, checkpoint=path)
    return path


@pytest.mark.parametrize("change, differs", [
    (dict(optimizer="adam"), "optimizer 'sgd' there, 'adam' now"),
    (dict(lr=0.5), "lr 0.9 there, 0.5 now"),
    (dict(momentum=0.9), "momentum 0.0 there, 0.9 now"),
    (dict(seed=3), "seed 0 there, 3 now"),
    (dict(net="lenet_modern"), "model 'lenet' there, 'lenet_modern' now"),
    (dict(batch_size=50), "batch_size 100 there, 50 now"),
    (dict(n_train=400), "n_train 500 there, 400 now"),
    (dict(resize=32), "image_size [28, 28] there, [32, 32] now"),
])
def test_resuming_as_a_different_run_is_refused(fashion_root, one_epoch, change, differs):
    net = ck.get_model(change.pop("net", "lenet"))
    data = dict(batch_size=100, n_train=500, n_test=200)
    data.update({k: change.pop(k) for k in list(change) if k in ("batch_size", "n_train", "resize")})
    subset = ck.load_data_fashion_mnist(data.pop("batch_size"), data.pop("resize", None), root=fashion_root,
                                        device="cpu", **data)
    settings = {"lr": 0.9, **change}
    with pytest.raises(ValueError, match=f"cannot resume {one_epoch}: it holds 1 epoch\\(s\\) of a different run") as info:
        train(net, subset, 2, checkpoint=one_epoch, resume=True, **settings)
    assert differs in str(info.value)
    assert "start afresh" in str(info.value)
    assert checkpoint_info(one_epoch)["epochs"] == 1  # untouched


def test_resuming_with_more_epochs_extends_a_run_without_schedule(subset, one_epoch):
    history = train(ck.models.lenet(), subset, 3, lr=0.9, checkpoint=one_epoch, resume=True)
    assert len(history) == 3 and checkpoint_info(one_epoch)["epochs"] == 3


def test_a_schedule_fixes_the_number_of_epochs(subset, tmp_path):
    path = tmp_path / "run.pt"
    train(ck.models.lenet(), subset, 1, lr=0.9, schedule="cosine", checkpoint=path)
    with pytest.raises(ValueError, match="num_epochs 1 there, 2 now \\(the cosine schedule"):
        train(ck.models.lenet(), subset, 2, lr=0.9, schedule="cosine", checkpoint=path, resume=True)


def test_a_resumed_run_keeps_its_measured_fast_path(subset, tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    train(ck.models.lenet(), subset, 1, lr=0.9, precision="auto", channels_last="auto", checkpoint=path)
    first = checkpoint_info(path)
    monkeypatch.setattr(coursekit.train, "choose_fast_path", lambda *a, **k: pytest.fail("measured again"))
    history = train(ck.models.lenet(), subset, 2, lr=0.9, precision="auto", channels_last="auto", checkpoint=path,
                    resume=True)
    assert (history.precision, history.channels_last) == (first["precision"] or "fp32", first["channels_last"])
