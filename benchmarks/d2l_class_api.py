"""The English edition's AlexNet code, one epoch, through ``coursekit.d2l`` and through the real ``d2l``.

    python benchmarks/d2l_class_api.py                 # 6,400 training and 1,000 validation images
    python benchmarks/d2l_class_api.py --n-train 1280 --json out.json

The same function, written as section 8.1 of *Dive into Deep Learning* 1.0
writes it (an ``AlexNet(d2l.Classifier)``, ``d2l.FashionMNIST(batch_size=128,
resize=(224, 224))``, ``d2l.Trainer(max_epochs=1, num_gpus=1)``), runs once
with ``d2l = coursekit.d2l`` and once with ``from d2l import torch as d2l``,
on the same subset of the images. Reported: the seconds of ``trainer.fit``
(data loading, training, validation and plotting), the training images per
second, the final validation accuracy and the ratio of the two times.
The real ``d2l`` needs ``pip install --no-deps d2l==1.0.3`` and the baseline extra.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from coursekit.data import subset_indices

sys.path.insert(0, str(Path(__file__).parent))
from train_speed import raw_folder  # noqa: E402 - the decompressed files the real d2l reads


def alexnet(d2l):
    """Section 8.1's network, line for line in the book's style."""
    class AlexNet(d2l.Classifier):
        def __init__(self, lr=0.1, num_classes=10):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(
                nn.LazyConv2d(96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.LazyConv2d(256, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
                nn.LazyConv2d(384, kernel_size=3, padding=1), nn.ReLU(),
                nn.LazyConv2d(384, kernel_size=3, padding=1), nn.ReLU(),
                nn.LazyConv2d(256, kernel_size=3, padding=1), nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
                nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(p=0.5),
                nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(p=0.5),
                nn.LazyLinear(num_classes))
            self.net.apply(d2l.init_cnn)

    return AlexNet(lr=0.01)


def run(way: str, n_train: int, n_test: int, workdir: Path) -> dict:
    torch.manual_seed(0)
    if way == "coursekit":
        from coursekit import d2l

        data = d2l.FashionMNIST(batch_size=128, resize=(224, 224), n_train=n_train, n_test=n_test)
    else:
        from d2l import torch as d2l

        root = raw_folder(workdir).parent.parent
        data = d2l.FashionMNIST.__new__(d2l.FashionMNIST)  # the book's class, reading the files offline
        d2l.DataModule.__init__(data, root=str(root))
        import torchvision
        from torchvision import transforms

        data.batch_size, data.resize = 128, (224, 224)
        trans = transforms.Compose([transforms.Resize(data.resize), transforms.ToTensor()])
        train = torchvision.datasets.FashionMNIST(str(root), train=True, transform=trans, download=False)
        val = torchvision.datasets.FashionMNIST(str(root), train=False, transform=trans, download=False)
        data.train = torch.utils.data.Subset(train, subset_indices(len(train), n_train, seed=0).tolist())
        data.val = torch.utils.data.Subset(val, subset_indices(len(val), n_test, seed=0).tolist())
    model = alexnet(d2l)
    trainer = d2l.Trainer(max_epochs=1, num_gpus=1)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the real board prints a figure repr at every draw
        trainer.fit(model, data)
    seconds = time.perf_counter() - start
    accuracy = model.board.data["val_acc"][-1].y
    return {"way": way, "seconds": seconds, "train_images_per_sec": n_train / seconds, "val_acc": float(accuracy)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=6400)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--ways", default="coursekit,d2l", help="coursekit, d2l or both")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for way in args.ways.split(","):
            row = run(way, args.n_train, args.n_test, Path(workdir))
            rows.append(row)
            print(f"{way:<10} {row['seconds']:8.1f} s  {row['train_images_per_sec']:7.1f} train images/s (whole fit)  "
                  f"val acc {row['val_acc']:.3f}", flush=True)
    by_way = {r["way"]: r for r in rows}
    if {"coursekit", "d2l"} <= set(by_way):
        print(f"coursekit.d2l is {by_way['d2l']['seconds'] / by_way['coursekit']['seconds']:.2f}x the speed of d2l")
    if args.json:
        args.json.write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
