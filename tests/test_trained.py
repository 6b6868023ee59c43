"""coursekit.trained: load a recipe's trained network if it was saved, else train and save it."""

import pytest
import torch
from torch import nn

import coursekit as ck
import coursekit.trained as trained


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Every test gets an empty user cache: the real one is never read or written."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny(profile="smoke", **changes):
    """LeNet on 128 + 64 images: a second of training; fp32 so that no speed probe runs."""
    settings = dict(n_train=128, n_test=64, batch_size=64, num_epochs=1, precision=None, channels_last=False)
    return ck.recipe("lenet", "smoke").replace(profile=profile, **{**settings, **changes})


def weights(net):
    return [p.detach().clone() for p in net.parameters()]


def test_the_path_holds_the_profile_and_the_name_under_the_user_cache(own_cache):
    assert ck.recipe("nin", "laptop").trained_path() == own_cache / "coursekit" / "trained" / "laptop" / "nin.pt"
    assert ck.recipe("nin", "smoke").trained_path() != ck.recipe("nin", "laptop").trained_path()


def test_a_miss_trains_and_saves_then_a_hit_loads_without_training(monkeypatch, capsys):
    recipe = tiny()
    net, history = ck.load_or_train(recipe, "cpu", reporters=[])
    assert "no saved lenet for the smoke profile: training it now" in capsys.readouterr().out
    assert recipe.trained_path().is_file() and len(history) == 1 and not net.training

    def no_training(*args, **kwargs):
        raise AssertionError("a complete saved run must be loaded, not trained again")

    monkeypatch.setattr(trained, "fit", no_training)
    again, loaded = ck.load_or_train(recipe, "cpu")
    out = capsys.readouterr().out
    assert out.startswith("loaded lenet (smoke profile, 1 epoch) from ") and "test accuracy" in out
    assert all(torch.equal(a, b) for a, b in zip(weights(net), weights(again)))
    assert loaded.test_acc == history.test_acc and not again.training


def test_other_settings_are_named_and_trained_again(capsys):
    ck.load_or_train(tiny(), "cpu", reporters=[])
    capsys.readouterr()
    _, history = ck.load_or_train(tiny(lr=0.05), "cpu", reporters=[])
    out = capsys.readouterr().out
    assert "trained with other settings (lr 0.1 there vs 0.05 now): training again" in out
    assert ck.checkpoint.checkpoint_info(tiny().trained_path())["lr"] == 0.05 and len(history) == 1


def test_more_epochs_in_the_recipe_is_another_run(capsys):
    ck.load_or_train(tiny(), "cpu", reporters=[])
    capsys.readouterr()
    _, history = ck.load_or_train(tiny(num_epochs=2), "cpu", reporters=[])
    assert "num_epochs 1 there vs 2 now" in capsys.readouterr().out and len(history) == 2


def test_an_incomplete_run_is_finished_from_where_it_stopped(capsys):
    recipe = tiny(num_epochs=2)
    path = recipe.trained_path()
    ck.load_or_train(recipe, "cpu", reporters=[])
    state = torch.load(path, weights_only=True)
    full = state["history"]["test_acc"]
    state["history"] = {k: (v[:1] if isinstance(v, list) else v) for k, v in state["history"].items()}
    torch.save(state, path)  # as if the run had been stopped after its first epoch
    capsys.readouterr()
    _, history = ck.load_or_train(recipe, "cpu", reporters=[])
    assert "holds 1 of its 2 epochs: finishing it" in capsys.readouterr().out
    assert len(history) == 2 and history.test_acc[0] == full[0]


def test_profiles_never_share_a_saved_network(monkeypatch, capsys):
    ck.load_or_train(tiny("smoke"), "cpu", reporters=[])
    capsys.readouterr()
    _, history = ck.load_or_train(tiny("laptop"), "cpu", reporters=[])
    assert "no saved lenet for the laptop profile" in capsys.readouterr().out
    assert tiny("laptop").trained_path().is_file() and tiny("smoke").trained_path().is_file()


def test_a_damaged_file_is_reported_and_replaced_by_a_new_run(capsys):
    recipe = tiny()
    recipe.trained_path().parent.mkdir(parents=True)
    recipe.trained_path().write_bytes(b"not a checkpoint")
    _, history = ck.load_or_train(recipe, "cpu", reporters=[])
    out = capsys.readouterr().out
    assert "the saved lenet cannot be read" in out and "training again" in out
    assert ck.checkpoint.checkpoint_info(recipe.trained_path())["epochs"] == 1 and len(history) == 1


def test_another_architecture_under_the_same_name_is_trained_again(capsys):
    recipe = tiny().replace(model=None)
    ck.load_or_train(recipe, "cpu", build=lambda: ck.models.lenet(), reporters=[])
    capsys.readouterr()
    ck.load_or_train(recipe, "cpu", build=lambda: ck.models.lenet_modern(), reporters=[])
    assert "other settings (architecture" in capsys.readouterr().out


def test_build_is_required_exactly_for_recipes_without_a_model():
    with pytest.raises(ValueError, match="pass build="):
        ck.load_or_train(tiny().replace(model=None), "cpu")
    with pytest.raises(ValueError, match="leave out build="):
        ck.load_or_train(tiny(), "cpu", build=lambda: nn.Linear(1, 1))
    with pytest.raises(TypeError, match="must be a Recipe"):
        ck.load_or_train("lenet")
