"""benchmarks/train_speed.py: every way runs on the same subset and the table's columns mean what they say."""

import importlib.util
import json
from pathlib import Path

import pytest

import coursekit as ck

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
    ways = ["coursekit", "coursekit-fp32", "d2l", "plain"]
    train_speed.main(["lenet", "--n-train", "1280", "--n-test", "500", "--device", "cpu",
                      "--ways", ",".join(ways), "--json", str(out)])
    rows = json.loads(out.read_text())
    assert [row["way"] for row in rows] == ways
    by_way = {row["way"]: row for row in rows}
    assert by_way["coursekit"]["precision"] == (ck.fast_precision("cpu") or "fp32")
    assert {by_way[way]["precision"] for way in ways[1:]} == {"fp32"}
    for row in rows:
        assert row["model"] == "lenet@28" and row["n_train"] == 1280 and row["epochs"] == 1
        assert 0 <= row["test_acc"] <= 1 and row["seconds"] > 0
        assert row["images_per_sec"] == pytest.approx(1280 / row["seconds"])
        assert row["vs_d2l"] == pytest.approx(row["images_per_sec"] / by_way["d2l"]["images_per_sec"])
    assert by_way["plain"]["train_loss"] is None  # the minimal loop does not sync to read its loss
    assert all(0 < by_way[way]["train_loss"] < 5 for way in ways[:3])
    printed = capsys.readouterr().out
    assert "coursekit-fp32" in printed and "x d2l" in printed


def test_fp32_row_starts_from_the_same_weights_and_batches(train_speed, fashion_root, tmp_path, monkeypatch):
    # With bf16 switched off, the two coursekit rows compute exactly the same thing,
    # so any difference in accuracy between them is the precision's doing.
    monkeypatch.setattr(ck, "fast_precision", lambda device: None)
    out = tmp_path / "speed.json"
    train_speed.main(["lenet", "--n-train", "2560", "--n-test", "500", "--epochs", "2", "--device", "cpu",
                      "--ways", "coursekit,coursekit-fp32", "--json", str(out)])
    first, second = json.loads(out.read_text())
    assert first["test_acc"] == second["test_acc"]
    assert first["vs_d2l"] is None  # no d2l row, no ratio


def test_unknown_way_is_refused_with_the_list(train_speed, capsys):
    with pytest.raises(SystemExit) as error:
        train_speed.main(["lenet", "--ways", "coursekit,fast"])
    assert error.value.code == 2
    message = capsys.readouterr().err
    assert "unknown way(s) fast" in message and "coursekit-fp32" in message

