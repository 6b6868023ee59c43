"""benchmarks/train_speed.py: every way runs on the same subset and the table's columns mean what they say."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

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
    ways = ["coursekit", "coursekit-fp32", "coursekit-bf16", "d2l", "plain"]
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
    lenet_flops = 3 * ck.flops(ck.models.lenet(), (1, 1, 28, 28)).flops
    for row in rows:
        assert row["training_flops_per_image"] == lenet_flops
        assert row["roofline_share"] == pytest.approx(
            lenet_flops * row["images_per_sec"] / report["matmul_flops_per_sec"][row["precision"]])
    for row in rows:
        assert row["model"] == "lenet@28" and row["n_train"] == 1280 and row["epochs"] == 1
        assert 0 <= row["test_acc"] <= 1 and row["seconds"] > 0
        assert row["images_per_sec"] == pytest.approx(1280 / row["seconds"])
        assert row["vs_d2l"] == pytest.approx(row["images_per_sec"] / by_way["d2l"]["images_per_sec"])
    assert by_way["plain"]["train_loss"] is None  # the minimal loop does not sync to read its loss
    assert all(0 < by_way[way]["train_loss"] < 5 for way in ways[:4])
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

