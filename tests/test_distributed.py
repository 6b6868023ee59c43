"""train_ch6 under torchrun: two CPU processes match one process with the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import coursekit as ck
from coursekit.models import lenet_modern


def test_two_processes_match_one(fashion_root, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", COURSEKIT_DATA=str(fashion_root))
    # As a module (-m), not as a script: a script's folder goes first on sys.path, and tests/inspect would
    # shadow the standard library's inspect.
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "tests.ddp_worker", str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    distributed = ck.History.from_dict(json.loads((tmp_path / "history.json").read_text()))

    # Logging happens on rank 0 only: one line per epoch and one final line, not two of each.
    lines = [line for line in result.stdout.splitlines() if line.startswith(("epoch ", "loss "))]
    assert len(lines) == 3, result.stdout

    ck.seed_everything(0)
    train_iter, test_iter = ck.load_data_fashion_mnist(64, device="cpu", n_train=1024, n_test=500)
    net = lenet_modern()
    single = ck.train_ch6(net, train_iter, test_iter, 2, 0.05, "cpu", momentum=0.9, verbose=False)

    # Same global batches, averaged gradients: the runs agree up to float rounding.
    assert distributed.train_loss == pytest.approx(single.train_loss, rel=1e-3)
    assert distributed.train_acc == pytest.approx(single.train_acc, abs=2 / 1024)
    assert distributed.test_acc == pytest.approx(single.test_acc, abs=2 / 500)
    # Rank 0 saved the unwrapped model, loadable into a plain one.
    restored = lenet_modern()
    ck.load_checkpoint(tmp_path / "ddp.pt", restored)
    for (name, a), b in zip(net.state_dict().items(), restored.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-4), name


def test_shards_cover_each_global_batch_once(fashion_root):
    train_iter, _ = ck.load_data_fashion_mnist(64, root=fashion_root, device="cpu", n_train=200, seed=3)
    whole = [y for _, y in train_iter]
    train_iter.epoch = 0
    shards = [train_iter.shard(rank, 2, drop_last=True) for rank in range(2)]
    parts = [[y for _, y in shard] for shard in shards]
    assert len(parts[0]) == len(parts[1]) == 3  # 200 // 64: the short last batch is dropped
    for full, a, b in zip(whole, *parts):
        assert torch.equal(torch.cat([a, b]), full)
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        train_iter.shard(0, 3, drop_last=True)
