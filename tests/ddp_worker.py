"""Run by tests/test_distributed.py under `torchrun --nproc_per_node=2`: train_ch6 with DDP on gloo."""

import json
import sys

import torch
import torch.distributed as dist

import coursekit as ck
from coursekit.models import lenet_modern

out = sys.argv[1]
dist.init_process_group("gloo")
ck.seed_everything(0)
train_iter, test_iter = ck.load_data_fashion_mnist(64, device="cpu", n_train=1024, n_test=500)
history = ck.train_ch6(lenet_modern(), train_iter, test_iter, 2, 0.05, "cpu", momentum=0.9,
                       checkpoint=f"{out}/ddp.pt")
if dist.get_rank() == 0:
    with open(f"{out}/history.json", "w") as f:
        json.dump(history.to_dict(), f)
dist.barrier()  # without it, destroying the group sometimes hangs with gloo on torch 2.4 (pytorch#75097)
dist.destroy_process_group()
