"""The `coursekit` command: each command, each bad argument, and an interrupted run resumed."""

import json
import os
import signal
import subprocess
import sys

import pytest

from coursekit.cli import main

CLI = [sys.executable, "-m", "coursekit"]


def run(*args, **kwargs):
    env = dict(os.environ, COURSEKIT_PROFILE="smoke")
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300, **kwargs)


def test_models_lists_every_model(capsys):
    from coursekit.models import MODELS

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert f"\n{name} " in out
    assert "61,706" in out  # LeNet's parameter count, next to its name


def test_info_prints_shapes_flops_and_receptive_field(capsys):
    assert main(["info", "lenet", "--input", "1x28x28"]) == 0
    out = capsys.readouterr().out
    assert "Total: 61,706 parameters" in out
    assert "multiply-accumulates" in out
    assert "receptive fields" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "lenett"], "Unknown model 'lenett'. Did you mean 'lenet'?"),
        (["info", "alexnet", "--input", "1x28x28"], "too small"),
        (["train", "alexnet", "--resize", "28", "--out", "{tmp}/a"], "--resize 28 does not fit alexnet"),
        (["train", "resnet50", "--out", "{tmp}/b"], "resnet50 is an ImageNet-form network"),
        (["train", "lenet", "--out", "/proc/coursekit-cannot-write-here"], "cannot write to --out"),
        (["train", "lenet", "--out", "{tmp}/c", "--resume"], "--resume: no checkpoint in"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, args, message):
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode == 2
    assert result.stderr.startswith("coursekit: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_dry_run_prints_the_recipe(capsys):
    from coursekit.recipes import recipe

    assert main(["train", "alexnet", "--profile", "laptop", "--epochs", "1", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == str(recipe("alexnet", "laptop").replace(num_epochs=1))


def test_training_needs_an_out_folder(capsys):
    assert main(["train", "lenet", "--profile", "smoke"]) == 2
    assert "--out FOLDER is required" in capsys.readouterr().err


def test_corrupt_checkpoint_is_one_line(tmp_path, fashion_root):
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    result = run("train", "lenet", "--out", str(tmp_path), "--resume")
    assert result.returncode == 2
    assert "checkpoint.pt is not a readable coursekit checkpoint" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_unparseable_input_size_is_refused():
    result = run("info", "lenet", "--input", "28x28")
    assert result.returncode == 2 and "--input must look like CxHxW" in result.stderr


def test_train_writes_history_curves_and_checkpoint(tmp_path, fashion_root):
    result = run("train", "lenet_modern", "--epochs", "2", "--lr", "0.1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["train_loss"]) == 2
    assert (tmp_path / "curves.png").stat().st_size > 1000 and (tmp_path / "checkpoint.pt").is_file()
    assert "batch/s" in result.stderr  # the progress bar
    assert "epoch 2/2: loss" in result.stdout


def test_ctrl_c_then_resume_ends_where_an_uninterrupted_run_would(tmp_path, fashion_root):
    args = ["train", "lenet_modern", "--epochs", "3", "--lr", "0.1", "--n-train", "12000", "--batch-size", "128"]
    reference = run(*args, "--out", str(tmp_path / "reference"))
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "interrupted"
    env = dict(os.environ, COURSEKIT_PROFILE="smoke", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([*CLI, *args, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    for line in process.stdout:
        if line.startswith("epoch 1/3"):
            process.send_signal(signal.SIGINT)  # Ctrl-C during the second epoch
            break
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    saved = json.loads((out / "history.json").read_text())
    assert len(saved["train_loss"]) == 1  # the finished epoch is kept

    # The printed command continues the same run: same profile, same overrides.
    hint = stderr.strip().splitlines()[-1].split()
    assert hint[:2] == ["coursekit", "train"] and hint[-1] == "--resume" and "--profile" in hint
    resumed = run(*hint[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming from" in resumed.stdout
    expected = json.loads((tmp_path / "reference" / "history.json").read_text())
    got = json.loads((out / "history.json").read_text())
    for key in ("train_loss", "train_acc", "test_acc"):
        assert got[key] == expected[key], key


def test_compile_without_a_compiler_is_one_line(tmp_path, fashion_root, monkeypatch, capsys):
    import coursekit.train

    monkeypatch.setattr(coursekit.train.shutil, "which", lambda name: None)
    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")
    code = main(["train", "lenet", "--out", str(tmp_path / "run"), "--device", "cpu", "--compile"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("coursekit: error: --compile: compile=True on the CPU needs a C++ compiler")
    assert err.count("\n") == 1
