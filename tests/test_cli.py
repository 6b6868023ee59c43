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
    # A runner started in the background (`nohup ... &`) ignores SIGINT, and Python then never turns it into
    # KeyboardInterrupt: give the child the default action, as a terminal would.
    process = subprocess.Popen([*CLI, *args, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stdout:
        if line.startswith("epoch 1/3"):
            process.send_signal(signal.SIGINT)  # Ctrl-C during the second epoch
            break
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    saved = json.loads((out / "history.json").read_text())
    assert len(saved["train_loss"]) == 1  # the finished epoch is kept

    # The printed command continues the same run: the checkpoint keeps its settings.
    hint = stderr.strip().splitlines()[-1].split()
    assert hint == ["coursekit", "train", "lenet_modern", "--out", str(out), "--resume"]
    assert "1 finished epoch(s) are saved" in stderr
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


def one_line(argv, capsys, monkeypatch=None, **env):
    """Run the command in this process; return its exit code and what it printed on stderr."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own errors: usage, then one error line
        code = exit.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip().splitlines()[-1] if err.strip() else ""


@pytest.mark.parametrize("args, message", [
    (["--resize", "-5"], "argument --resize: must be at least 1, got -5"),
    (["--resize", "0"], "argument --resize: must be at least 1, got 0"),
    (["--resize", "1100"], "resize must be None or an int from 1 to 1024, got 1100"),
    (["--resize", "100000"], "resize must be None or an int from 1 to 1024, got 100000"),
    (["--batch-size", "-1"], "argument --batch-size: must be at least 1, got -1"),
    (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["--n-train", "100"], "a batch of 128 is more than the 100 training images"),
    (["--n-train", "1e9"], "argument --n-train: expected a whole number, got '1e9'"),
    (["--n-train", "1000000000"], "Fashion-MNIST has 60,000 training and 10,000 test images"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--lr", "0"], "argument --lr: must be a positive number, got 0"),
    (["--lr", "nan"], "argument --lr: must be a positive number, got nan"),
    (["--device", "tpu"], "--device: 'tpu' is not a device PyTorch knows"),
    (["--device", "cuda:99"], "--device: device 'cuda:99': this machine has"),
])
def test_bad_values_are_one_line_before_any_work(tmp_path, capsys, args, message):
    code, line = one_line(["train", "lenet", "--profile", "smoke", *args, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and message in line, line
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_an_empty_out_is_refused(capsys):
    code, line = one_line(["train", "lenet", "--out", ""], capsys)
    assert code == 2 and "argument --out: an empty folder name" in line


def test_a_mac_gpu_elsewhere_is_explained(tmp_path, capsys):
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("this machine has Apple's GPU")  # the case under test cannot happen here
    code, line = one_line(["train", "lenet", "--device", "mps", "--out", str(tmp_path)], capsys)
    assert code == 2 and "Apple's GPU is not available here" in line


def test_a_bogus_profile_is_one_line(tmp_path, capsys, monkeypatch):
    code, line = one_line(["train", "lenet", "--out", str(tmp_path)], capsys, monkeypatch, COURSEKIT_PROFILE="bogus")
    assert code == 2 and "COURSEKIT_PROFILE='bogus' is not a profile" in line


def test_a_data_folder_that_is_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    code, line = one_line(["train", "lenet", "--profile", "smoke", "--out", str(tmp_path / "run")], capsys, monkeypatch,
                          COURSEKIT_DATA=str(tmp_path / "afile"))
    assert code == 2 and "is a file, not a folder" in line


def test_a_huge_input_is_refused_before_allocating(capsys):
    code, line = one_line(["info", "lenet", "--input", "3x30000x30000"], capsys)
    assert code == 2 and "2,700,000,000 values" in line


def test_an_out_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    code, line = one_line(["train", "lenet", "--profile", "smoke", "--out", str(tmp_path / "afile")], capsys)
    assert code == 2 and "cannot write to --out" in line


def test_ctrl_c_before_training_is_one_line(tmp_path, capsys, monkeypatch, fashion_root):
    import coursekit.recipes

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(coursekit.recipes.Recipe, "data", interrupted)
    code, line = one_line(["train", "lenet", "--profile", "smoke", "--out", str(tmp_path)], capsys)
    assert (code, line) == (130, "coursekit: interrupted.")


def test_a_full_disk_is_one_line_and_keeps_the_history(tmp_path, capsys, monkeypatch, fashion_root):
    import torch

    import coursekit.checkpoint

    real_save, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) > 1:
            raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 12864 vs 12816")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(coursekit.checkpoint.torch, "save", save)
    code, line = one_line(["train", "lenet", "--profile", "smoke", "--epochs", "2", "--n-train", "512",
                           "--out", str(tmp_path)], capsys)
    assert code == 2 and "could not write the checkpoint" in line and "1 of them in the checkpoint" in line
    assert len(json.loads((tmp_path / "history.json").read_text())["train_loss"]) == 2
    assert not (tmp_path / "checkpoint.pt.tmp").exists()


@pytest.fixture
def one_epoch_run(tmp_path, fashion_root, capsys):
    out = tmp_path / "run"
    assert main(["train", "lenet", "--profile", "smoke", "--epochs", "1", "--n-train", "512", "--lr", "0.5",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_resume_reuses_the_checkpoints_settings(one_epoch_run, capsys):
    from coursekit.recipes import recipe

    assert main(["train", "lenet", "--out", str(one_epoch_run), "--resume", "--dry-run"]) == 0
    expected = recipe("lenet", "smoke").replace(num_epochs=1, n_train=512, lr=0.5)
    assert capsys.readouterr().out.strip() == str(expected).replace("smoke", expected.profile)
    assert main(["train", "lenet", "--out", str(one_epoch_run), "--resume", "--epochs", "2"]) == 0
    assert len(json.loads((one_epoch_run / "history.json").read_text())["train_loss"]) == 2


@pytest.mark.parametrize("flags, differs", [
    (["--batch-size", "64"], "batch_size 128 there, 64 now"),
    (["--lr", "0.1"], "lr 0.5 there, 0.1 now"),
    (["--n-train", "1024"], "n_train 512 there, 1024 now"),
    (["--resize", "32"], "resize None there, 32 now"),
    (["--seed", "1"], "seed 0 there, 1 now"),
    (["--profile", "laptop"], "lr 0.5 there, 0.1 now"),
])
def test_resume_refuses_flags_that_make_another_run(one_epoch_run, capsys, flags, differs):
    code, line = one_line(["train", "lenet", "--out", str(one_epoch_run), "--resume", *flags], capsys)
    assert code == 2 and "holds 1 epoch(s) of a run with other settings" in line and differs in line, line
    assert f"coursekit train lenet --out {one_epoch_run} --resume" in line


def test_resume_refuses_another_models_checkpoint(one_epoch_run, capsys):
    code, line = one_line(["train", "lenet_modern", "--out", str(one_epoch_run), "--resume"], capsys)
    assert code == 2 and "holds a run of lenet, not lenet_modern" in line


def test_a_second_ctrl_c_while_the_files_are_written_is_one_line(tmp_path, capsys, monkeypatch, fashion_root):
    import coursekit.reporters

    def interrupted_again(self, run):
        raise KeyboardInterrupt

    monkeypatch.setattr(coursekit.reporters.SaveFiles, "on_end", interrupted_again)
    code, line = one_line(["train", "lenet", "--profile", "smoke", "--n-train", "512", "--out", str(tmp_path)], capsys)
    assert code == 130
    assert line == f"coursekit: interrupted; every finished epoch saved before it is in {tmp_path / 'checkpoint.pt'}."
    assert ck_epochs(tmp_path / "checkpoint.pt") == 1


def ck_epochs(path):
    from coursekit.checkpoint import checkpoint_info

    return checkpoint_info(path)["epochs"]
