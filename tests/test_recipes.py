"""coursekit.recipes: one recipe per model and profile, read alike by the notebooks, the CLI and the benchmark."""

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest
import torch

import coursekit as ck
from coursekit.cli import main
from coursekit.config import PROFILES
from coursekit.recipes import D2L, RECIPES, Recipe, recipe, trainable_models

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
ALL = [(name, profile) for name in RECIPES for profile in PROFILES]


@pytest.mark.parametrize("name, profile", ALL)
def test_every_recipe_is_named_and_filed_under_its_profile(name, profile):
    r = recipe(name, profile)
    assert isinstance(r, Recipe) and r.name == name and r.profile == profile


@pytest.mark.parametrize("model", list(D2L))
def test_the_full_profile_is_d2ls_recipe(model):
    lr, batch_size, resize = D2L[model]
    full = recipe(model, "full")
    assert (full.lr, full.batch_size, full.resize) == (lr, batch_size, resize)
    assert (full.num_epochs, full.n_train, full.n_test, full.optimizer, full.momentum) == (10, None, None, "sgd", 0)
    assert full.schedule is None


@pytest.mark.parametrize("name", list(RECIPES))
def test_smoke_is_the_laptop_recipe_on_a_few_images(name):
    smoke, laptop = recipe(name, "smoke"), recipe(name, "laptop")
    assert smoke.num_epochs <= 2 and (smoke.n_train or 60_000) <= 1024 and (smoke.n_test or 10_000) <= 512
    sizes = {"n_train", "n_test", "num_epochs", "batch_size", "resize", "profile"}
    for f in fields(Recipe):
        if f.name not in sizes:
            assert getattr(smoke, f.name) == getattr(laptop, f.name), f.name


@pytest.mark.parametrize("name, profile", [(n, p) for n, p in ALL if RECIPES[n][p].model is not None])
def test_every_model_takes_its_recipes_images(name, profile):
    r = recipe(name, profile)
    with torch.device("meta"):
        net = r.build(seed=None)
        side = r.resize or 28
        out = net.eval()(torch.empty(2, 1, side, side))
    assert out.shape == (2, len(r.classes) if r.classes else 10)


@pytest.mark.parametrize("model", trainable_models())
@pytest.mark.parametrize("profile", PROFILES)
def test_the_command_line_trains_the_notebooks_recipe(model, profile, capsys):
    assert main(["train", model, "--profile", profile, "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == str(recipe(model, profile))


# The recipes each chapter trains its models with; the CLI test above proves `coursekit train` uses them.
CHAPTER_RECIPES = {
    "00_building_blocks": {"tiny_cnn"},
    "01_lenet": {"lenet"},
    "02_alexnet": {"alexnet"},
    "03_vgg": {"vgg11_narrow"},
    "04_nin": {"nin"},
    "05_googlenet": {"googlenet"},
    "06_batch_norm": {"bn_lenet_scratch", "bn_lenet"},
    "07_resnet": {"resnet18_d2l"},
    "08_densenet": {"densenet"},
    "09_receptive_fields": {"small_cnn"},
    "11_design_and_training": {"mixed_precision", "lr_sweep", "lr_sweep_final", "transfer_source",
                               "transfer_target", "capstone"},
    "12_what_the_network_sees": {"lenet", "nin", "resnet18_d2l"},
    "13_overfitting_and_recipe": {"overfit", "strong_recipe", "resnet18_d2l"},
}


def code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("stem", sorted(CHAPTER_RECIPES))
def test_notebooks_train_with_their_recipes_only(stem):
    source = code(NOTEBOOKS / f"{stem}.ipynb")
    assert set(re.findall(r"ck\.recipe\(\"(\w+)\"", source)) == CHAPTER_RECIPES[stem]
    assert "for_profile(" not in source, "training settings belong in coursekit/recipes.py"
    # Every training call takes its options (epochs, lr, optimizer...) from a recipe.
    for call in re.findall(r"(?:ck\.fit|compare_models)\((.*?)\)\n", source, flags=re.S):
        assert ".options(" in call or "recipe" in call, call
    assert "train_ch6(" not in source.replace("`train_ch6(", "")


def test_every_recipe_is_used_by_a_chapter_or_the_command_line():
    used = set().union(*CHAPTER_RECIPES.values()) | set(trainable_models())
    assert used == set(RECIPES)


def test_the_settings_are_printed_in_words():
    text = str(recipe("alexnet", "laptop"))
    assert text.splitlines()[0] == "recipe 'alexnet' (laptop profile): ck.models.alexnet(ratio=4)"
    assert "15,000 training and all 10,000 test images at 224x224, batches of 128" in text
    assert "5,000 training and 2,000 test images at 32x32" in str(recipe("capstone", "laptop"))
    assert "3 epochs of sgd at lr 0.01, momentum 0.9, constant lr, xavier init, precision auto" in text
    assert "all 60,000 training and all 10,000 test images" in str(recipe("lenet", "full"))
    assert "of classes [1, 4, 6, 7, 9]" in str(recipe("transfer_target", "laptop"))
    assert repr(recipe("nin", "full")) == str(recipe("nin", "full"))


def test_options_and_overrides():
    r = recipe("resnet18_d2l", "laptop")
    options = r.options()
    assert (options.num_epochs, options.lr, options.momentum, options.schedule) == (3, 0.05, 0.9, "onecycle")
    assert r.options(seed=3).seed == 3
    assert r.replace(num_epochs=1).options().num_epochs == 1
    with pytest.raises(ValueError, match="lr must be a positive number"):
        r.replace(lr=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        r.replace(batch_size=0)
    with pytest.raises(ValueError, match="resize must be None or an int from 1 to 1024"):
        r.replace(resize=5000)


def test_build_is_seeded_and_needs_a_model():
    a, b = recipe("lenet", "laptop").build(), recipe("lenet", "laptop").build()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    with pytest.raises(ValueError, match="trains a network that its chapter defines"):
        recipe("tiny_cnn", "laptop").build()


def test_unknown_names_and_profiles():
    with pytest.raises(ValueError, match="No recipe 'alexnett'. Did you mean 'alexnet'?"):
        recipe("alexnett")
    with pytest.raises(ValueError, match="profile must be one of smoke, laptop, full"):
        recipe("lenet", "desktop")


def test_the_profile_in_force_is_the_default(monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROFILE", "full")
    assert recipe("lenet") is RECIPES["lenet"]["full"]


def test_data_follows_the_recipe(fashion_root):
    train_iter, test_iter = recipe("nin", "smoke").data("cpu", root=fashion_root)
    assert (train_iter.num_examples, test_iter.num_examples, train_iter.batch_size) == (256, 128, 64)
    X, _ = next(iter(train_iter))
    assert X.shape == (64, 1, 96, 96) and abs(X.mean().item()) < 0.5  # standardised
    target_train, target_test = recipe("transfer_target", "smoke").data("cpu", root=fashion_root)
    assert target_train.num_examples == 200 and target_train.class_names[0] == "trouser"
    train, valid = recipe("lr_sweep", "smoke").data("cpu", root=fashion_root)
    assert (train.num_examples, valid.num_examples) == (512, 256)
    assert not set(map(bytes, train.images.flatten(1).numpy())) & set(map(bytes, valid.images.flatten(1).numpy()))
