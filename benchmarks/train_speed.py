"""Train the same model three ways on the same data and compare end-to-end speed and accuracy.

    python benchmarks/train_speed.py                       # LeNet@28, AlexNet@224, ResNet-18@96
    python benchmarks/train_speed.py lenet --n-train 20000 --epochs 2 --json speed.json
    python benchmarks/train_speed.py alexnet --ways coursekit,coursekit-fp32,d2l  # does bf16 keep the accuracy?

For each model, on the same real Fashion-MNIST subset, batch size, epochs and device
(d2l's image size, batch size and learning rate: the model's ``full`` recipe in
:mod:`coursekit.recipes`), the ways named by ``--ways`` (default: coursekit, d2l, plain):

* ``coursekit``: ``load_data_fashion_mnist`` + ``ck.fit`` with ``precision="auto"`` and
  ``channels_last="auto"``, what the recipes use: the arithmetic measured fastest on this
  device (:mod:`coursekit.fast_path`). The probe runs once per machine and shape and is
  cached; its one-time cost is reported apart (``probe_seconds``), not in the row's speed;
* ``coursekit-fp32`` and ``coursekit-bf16``: the same in fp32 or in bf16 (the layout still
  measured), from the same initial weights and batch order, so the accuracy columns show
  what a precision costs and the speed columns whether the automatic choice was right;
* ``coursekit-compile``: the first with ``compile=True``
  (its wall time includes the compilation, as a learner's would);
* ``d2l``: the real ``d2l`` package's ``load_data_fashion_mnist`` + ``train_ch6``
  (install it with ``pip install --no-deps d2l==1.0.3`` and ``pip install -e ".[baseline]"``);
* ``plain``: torchvision's dataset and ``DataLoader`` with a minimal PyTorch loop.

Images/s is end to end: training images over the wall time of the whole run,
data loading and evaluation included. Each row says its precision.

The same run measures the device's matrix-multiply rate in fp32 and bf16, and
gives every row its share of that roofline: the training arithmetic it did
(forward + backward = 3x the forward FLOPs that ``ck.flops`` counts, per
image) times its end-to-end images/s, over the rate of its precision.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import coursekit as ck
from coursekit.data import find_fashion_mnist, subset_indices

DEFAULT_MODELS = ["lenet", "alexnet", "resnet18_d2l"]


def raw_folder(workdir: Path) -> Path:
    """torchvision's FashionMNIST/raw layout, decompressed, where d2l (root='../data') and torchvision look."""
    raw = workdir / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    source = find_fashion_mnist()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        target = raw / name
        if not target.exists():
            path = source / name if (source / name).exists() else source / f"{name}.gz"
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as f:
                target.write_bytes(f.read())
    return raw


def _torchvision_loaders(root: Path, resize: int, batch_size: int, n_train: int, n_test: int, seed: int,
                         workers: int):
    """d2l's pipeline: PIL Resize + ToTensor per image in DataLoader workers (also the plain baseline's)."""
    import torchvision
    from torchvision import transforms

    trans = [transforms.ToTensor()]
    if resize != 28:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    train = torchvision.datasets.FashionMNIST(str(root), train=True, transform=trans, download=False)
    test = torchvision.datasets.FashionMNIST(str(root), train=False, transform=trans, download=False)
    train = torch.utils.data.Subset(train, subset_indices(len(train), n_train, seed).tolist())
    test = torch.utils.data.Subset(test, subset_indices(len(test), n_test, seed).tolist())
    return (torch.utils.data.DataLoader(train, batch_size, shuffle=True, num_workers=workers),
            torch.utils.data.DataLoader(test, batch_size, shuffle=False, num_workers=workers))


def run_coursekit(name, resize, batch_size, lr, n_train, n_test, epochs, device, seed, *, precision="auto",
                  compile=False):
    ck.seed_everything(seed)
    net = ck.get_model(name)
    # The probe that picks the arithmetic runs once per machine and shape, and later runs read its cached
    # answer: it is timed apart (probe_seconds), so that the row shows the speed of every run after the first.
    X, y = ck.load_data_fashion_mnist(batch_size, resize, n_train=n_train, n_test=n_test, seed=seed,
                                      device=device)[0].peek()
    start = time.perf_counter()
    ck.choose_fast_path(net, X, y, precision=precision, channels_last="auto")
    probe_seconds = time.perf_counter() - start
    start = time.perf_counter()
    train_iter, test_iter = ck.load_data_fashion_mnist(batch_size, resize, n_train=n_train, n_test=n_test,
                                                       seed=seed, device=device)
    options = ck.TrainOptions(epochs, lr, precision=precision, channels_last="auto", compile=compile, seed=seed)
    history = ck.fit(net, train_iter, test_iter, options, device, reporters=[])
    wall = time.perf_counter() - start
    way = "coursekit-compile" if compile else {"auto": "coursekit"}.get(precision, f"coursekit-{precision or 'fp32'}")
    return dict(way=way, precision=history.precision, channels_last=history.channels_last,
                images_per_sec=n_train * epochs / wall, train_loss=history.train_loss[-1],
                test_acc=history.test_acc[-1], seconds=wall, probe_seconds=probe_seconds)


def run_d2l(name, resize, batch_size, lr, n_train, n_test, epochs, device, seed, workdir):
    from d2l import torch as d2l

    ck.seed_everything(seed)
    net = ck.get_model(name)
    start = time.perf_counter()
    # d2l's own loader (PIL resize per image in 4 workers), on the same subset.
    train_iter, test_iter = _torchvision_loaders(workdir / "data", resize, batch_size, n_train, n_test, seed,
                                                 d2l.get_dataloader_workers())
    with contextlib.redirect_stdout(io.StringIO()) as out:
        d2l.train_ch6(net, train_iter, test_iter, epochs, lr, device)
    wall = time.perf_counter() - start
    # d2l's last line: "loss 0.468, train acc 0.823, test acc 0.811".
    final = out.getvalue().split("loss ")[-1]
    train_loss, test_acc = float(final.split(",")[0]), float(final.split("test acc ")[1].split()[0])
    return dict(way="d2l", precision="fp32", images_per_sec=n_train * epochs / wall, train_loss=train_loss,
                test_acc=test_acc, seconds=wall)


def run_plain(name, resize, batch_size, lr, n_train, n_test, epochs, device, seed, workdir):
    ck.seed_everything(seed)
    net = ck.get_model(name).to(device)
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    start = time.perf_counter()
    train_iter, test_iter = _torchvision_loaders(workdir / "data", resize, batch_size, n_train, n_test, seed,
                                                 4)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        net.train()
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss_fn(net(X), y).backward()
            optimizer.step()
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in test_iter:
            correct += (net(X.to(device)).argmax(1) == y.to(device)).sum().item()
            total += len(y)
    wall = time.perf_counter() - start
    return dict(way="plain", precision="fp32", images_per_sec=n_train * epochs / wall,
                train_loss=None, test_acc=correct / total, seconds=wall)  # None: a per-batch loss would cost a sync


WAYS = {
    "coursekit": run_coursekit,
    "coursekit-fp32": functools.partial(run_coursekit, precision=None),
    "coursekit-bf16": functools.partial(run_coursekit, precision="bf16"),
    "coursekit-compile": functools.partial(run_coursekit, compile=True),
    "d2l": run_d2l,
    "plain": run_plain,
}
# These two read the files through torchvision's folder layout, set up once in a temporary folder.
_TORCHVISION_WAYS = {"d2l", "plain"}


def matmul_rate(device: torch.device, dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of the device's best square matrix product in ``dtype``: the roofline of its arithmetic."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    best = float("inf")
    for _ in range(repeats + 1):  # the first product warms up the library
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def training_flops_per_image(name: str, resize: int) -> int:
    """Forward + backward FLOPs of one image: about 3x the forward pass (ck.flops counts the forward)."""
    with torch.device("meta"):
        net = ck.get_model(name)
    return 3 * ck.flops(net, (1, net.input_size[0], resize, resize)).flops


def _ways(text: str) -> list[str]:
    ways = [way.strip() for way in text.split(",") if way.strip()]
    unknown = [way for way in ways if way not in WAYS]
    if unknown or not ways:
        problem = f"unknown way(s) {', '.join(unknown)}" if unknown else "no way named"
        raise argparse.ArgumentTypeError(f"{problem}: give a comma-separated list of {', '.join(WAYS)}")
    return ways


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=DEFAULT_MODELS, choices=ck.recipes.trainable_models(),
                        metavar="MODEL", help="models with a recipe (default: %(default)s)")
    parser.add_argument("--n-train", type=int, help="training images (default: 10000 at 28, else 10 batches)")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--resize", type=int, help="image side (default: d2l's for the model)")
    parser.add_argument("--batch-size", type=int, help="default: d2l's for the model")
    parser.add_argument("--lr", type=float, help="default: d2l's for the model")
    parser.add_argument("--device", default=str(ck.try_gpu()))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--ways", type=_ways, default="coursekit,d2l,plain",
                        help=f"comma-separated, from {', '.join(WAYS)} (default: %(default)s)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if "d2l" in args.ways:
        try:
            import d2l  # noqa: F401
        except ImportError:
            sys.exit("The d2l baseline is missing: pip install --no-deps d2l==1.0.3 && pip install -e '.[baseline]' "
                     "(or leave d2l out of --ways)")

    # Read and verify the files once, before any row is timed: otherwise the first row would pay for it alone.
    ck.data.read_fashion_mnist("train"), ck.data.read_fashion_mnist("test")
    rates = {"fp32": matmul_rate(device, torch.float32), "bf16": matmul_rate(device, torch.bfloat16)}
    print(f"roofline on {ck.fast_path.device_name(device)}: matrix products at "
          + ", ".join(f"{p} {r / 1e9:,.0f} GFLOP/s" for p, r in rates.items()), flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if _TORCHVISION_WAYS.intersection(args.ways):
            raw_folder(workdir)
        for name in args.models:
            d2l = ck.recipe(name, "full")
            resize = args.resize or d2l.resize or 28
            batch_size, lr = args.batch_size or d2l.batch_size, args.lr or d2l.lr
            n_train = args.n_train or (10_000 if resize == 28 else 10 * batch_size)  # d2l needs >= 5 batches
            common = (name, resize, batch_size, lr, n_train, args.n_test, args.epochs, device, args.seed)
            flops = training_flops_per_image(name, resize)
            rows = []
            for way in args.ways:
                row = WAYS[way](*common, *([workdir] if way in _TORCHVISION_WAYS else []))
                achieved = flops * row["images_per_sec"]
                row.update(model=f"{name}@{resize}", batch_size=batch_size, lr=lr, n_train=n_train, epochs=args.epochs,
                           device=str(device), training_flops_per_image=flops, achieved_flops_per_sec=achieved,
                           roofline_flops_per_sec=rates[row["precision"]] if row["precision"] in rates else None)
                row["roofline_share"] = achieved / row["roofline_flops_per_sec"] if row["roofline_flops_per_sec"] else None
                rows.append(row)
                # Printed as soon as it is measured: a long run shows its progress.
                loss = "" if row["train_loss"] is None else f"  train loss {row['train_loss']:.3f}"
                layout = " CL" if row.get("channels_last") else ""
                share = f"  {row['roofline_share']:.0%} of the {row['precision']} roofline" if row["roofline_share"] else ""
                if row.get("probe_seconds") is not None:
                    share += f"  (probe {row['probe_seconds']:.1f} s, once)"
                print(f"{row['model']:<18} {row['way']:<17} {row['precision'] + layout:<8} "
                      f"{row['images_per_sec']:>10.1f} img/s  test acc {row['test_acc']:.3f}{loss}{share}", flush=True)
            d2l_speed = next((row["images_per_sec"] for row in rows if row["way"] == "d2l"), None)
            for row in rows:
                row["vs_d2l"] = row["images_per_sec"] / d2l_speed if d2l_speed else None
            if d2l_speed:
                print("  " + ", ".join(f"{row['way']} {row['vs_d2l']:.2f}x d2l" for row in rows), flush=True)
            results += rows
    if args.json:
        args.json.write_text(json.dumps({"device": ck.fast_path.device_name(device), "torch": torch.__version__,
                                         "matmul_flops_per_sec": rates, "rows": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
