"""benchmarks/train_speed.py: every way runs on the same subset and the table's columns mean what they say."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import coursekit as ck
from coursekit.fast_path import FastPath

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_speed.py"


@pytest.fixture(scope="module")
def train_speed():
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_all_ways_run_side_by_side(train_speed, fashion_root, tmp_path, capsys):
    pytest.importorskip("d2l", reason="the d2l baseline: pip install --no-deps d2l==1.0.3")
    out = tmp_path / "speed.json"
    ways = ["coursekit", "coursekit-fp32", "coursekit-bf16", "coursekit-glibc-default", "d2l", "plain"]
    train_speed.main(["lenet", "--n-train", "1280", "--n-test", "500", "--device", "cpu",
                      "--ways", ",".join(ways), "--json", str(out)])
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert [row["way"] for row in rows] == ways
    by_way = {row["way"]: row for row in rows}
    assert by_way["coursekit"]["precision"] in ("fp32", "bf16")  # what the probe measured fastest
    assert by_way["coursekit-bf16"]["precision"] == "bf16"
    assert {by_way[way]["precision"] for way in ("coursekit-fp32", "d2l", "plain")} == {"fp32"}
    assert set(report["matmul_flops_per_sec"]) == {"fp32", "bf16"} and report["torch"] == torch.__version__
    # One real training step's arithmetic, counted on the CPU, against the row's count made on the meta device.
    counter = FlopCounterMode(display=False)
    with counter:
        nn.functional.cross_entropy(ck.models.lenet()(torch.randn(4, 1, 28, 28)), torch.zeros(4, dtype=int)).backward()
    step, forward = counter.get_total_flops() // 4, ck.flops(ck.models.lenet(), (1, 1, 28, 28)).flops
    assert 2 * forward < step < 3 * forward  # no gradient for the images themselves
    assert by_way["coursekit"]["evaluated"] == by_way["d2l"]["evaluated"] == 500 == by_way["plain"]["evaluated"]
    for row in rows:
        assert (row["training_flops_per_image"], row["forward_flops_per_image"]) == (step, forward)
        work = step * 1280 + forward * row["evaluated"]
        assert row["roofline_share"] == pytest.approx(
            work / row["seconds"] / report["matmul_flops_per_sec"][row["precision"]])
    for row in rows:
        assert row["model"] == "lenet@28" and row["n_train"] == 1280 and row["epochs"] == 1
        assert 0 <= row["test_acc"] <= 1 and row["seconds"] > 0
        assert row["images_per_sec"] == pytest.approx(1280 / row["seconds"])
        assert row["vs_d2l"] == pytest.approx(row["images_per_sec"] / by_way["d2l"]["images_per_sec"])
    assert by_way["plain"]["train_loss"] is None  # the minimal loop does not sync to read its loss
    assert all(0 < by_way[way]["train_loss"] < 5 for way in ways[:5])
    # The same arithmetic from the same weights, with glibc's default allocation, is the same run (a probe on a
    # busy machine is not cached, so the two rows may have measured different arithmetic).
    auto, glibc = by_way["coursekit"], by_way["coursekit-glibc-default"]
    if (glibc["precision"], glibc["channels_last"]) == (auto["precision"], auto["channels_last"]):
        assert glibc["train_loss"] == auto["train_loss"]
    printed = capsys.readouterr().out
    assert "coursekit-fp32" in printed and "x d2l" in printed and "roofline" in printed


def test_rows_start_from_the_same_weights_and_batches(train_speed, fashion_root, tmp_path, monkeypatch):
    # With the probe's answer fixed to fp32 in the default layout, the automatic row and the fp32 row compute
    # exactly the same run, so any difference between the fp32 and bf16 rows is the precision's doing.
    def probe(net, X, y, *, precision, channels_last, **kwargs):
        return FastPath(None if precision == "auto" else precision, False, 1.0, {"fp32": 1.0})

    monkeypatch.setattr(ck.train, "choose_fast_path", probe)
    out = tmp_path / "speed.json"
    train_speed.main(["lenet", "--n-train", "2560", "--n-test", "500", "--epochs", "2", "--device", "cpu",
                      "--ways", "coursekit,coursekit-fp32,coursekit-bf16", "--json", str(out)])
    auto, fp32, bf16 = json.loads(out.read_text())["rows"]
    assert (auto["precision"], fp32["precision"], bf16["precision"]) == ("fp32", "fp32", "bf16")
    assert auto["test_acc"] == fp32["test_acc"] and auto["train_loss"] == fp32["train_loss"]
    assert bf16["train_loss"] != fp32["train_loss"]
    assert auto["vs_d2l"] is None  # no d2l row, no ratio


def test_unknown_way_is_refused_with_the_list(train_speed, capsys):
    with pytest.raises(SystemExit) as error:
        train_speed.main(["lenet", "--ways", "coursekit,fast"])
    assert error.value.code == 2
    message = capsys.readouterr().err
    assert "unknown way(s) fast" in message and "coursekit-fp32" in message



def test_layers_account_for_the_whole_step(train_speed, fashion_root, tmp_path, capsys):
    out = tmp_path / "speed.json"
    train_speed.main(["lenet", "--n-train", "512", "--n-test", "256", "--device", "cpu", "--ways", "coursekit",
                      "--layers", "--json", str(out)])
    report = json.loads(out.read_text())
    (layers,) = report["layers"]
    *each, whole = layers["rows"]
    net = ck.models.lenet()
    assert [row["layer"] for row in each] == [name for name, m in net.named_modules()
                                              if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert each[0]["input"] == [1, 28, 28] and each[-1]["kind"] == "Linear"
    # Every multiply-add of LeNet's training step is in a convolution or a linear layer (pooling and sigmoid
    # count none), so the layers' counts add up to the whole network's, the first without an input gradient.
    assert sum(row["flops"] for row in each) == whole["flops"]
    rate = report["matmul_flops_per_sec"][layers["precision"]]
    for row in layers["rows"]:
        assert row["seconds"] > 0 and row["roofline_share"] == pytest.approx(row["flops"] / row["seconds"] / rate)
    assert "each layer alone" in capsys.readouterr().out
