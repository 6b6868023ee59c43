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
* ``coursekit-glibc-default``: the first with ``COURSEKIT_REUSE_FREED_MEMORY=0``,
  so that glibc maps and zeroes the large activations afresh at every step
  (:mod:`coursekit.allocator`). After an earlier row, glibc's threshold for that
  is 32 MB, where its heuristic settles; a fresh process starts lower and is slower;
* ``d2l``: the real ``d2l`` package's ``load_data_fashion_mnist`` + ``train_ch6``
  (install it with ``pip install --no-deps d2l==1.0.3`` and ``pip install -e ".[baseline]"``);
* ``plain``: torchvision's dataset and ``DataLoader`` with a minimal PyTorch loop.

Images/s is end to end: training images over the wall time of the whole run,
data loading and evaluation included. Each row says its precision.

The same run measures the device's matrix-multiply rate in fp32 and bf16 (the
best of a few sizes), and gives every row its share of that roofline: the
arithmetic the run did, over its wall time, over the rate of its precision. The
arithmetic is what ``torch.utils.flop_counter`` counts for one training step
(forward and backward, per image: about 3x the forward pass) times the training
images, plus one forward pass per evaluated test image.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import torch
from torch import nn

import coursekit as ck
from coursekit import allocator
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
                  compile=False, reuse_memory=True):
    ck.seed_everything(seed)
    net = ck.get_model(name)
    # The probe that picks the arithmetic runs once per machine and shape, and later runs read its cached
    # answer: it is timed apart (probe_seconds), so that the row shows the speed of every run after the first.
    X, y = ck.load_data_fashion_mnist(batch_size, resize, n_train=n_train, n_test=n_test, seed=seed,
                                      device=device)[0].peek()
    with mock.patch.dict(os.environ, {allocator.ENV: "1" if reuse_memory else "0"}):
        start = time.perf_counter()
        ck.choose_fast_path(net, X, y, precision=precision, channels_last="auto")
        probe_seconds = time.perf_counter() - start
        start = time.perf_counter()
        train_iter, test_iter = ck.load_data_fashion_mnist(batch_size, resize, n_train=n_train, n_test=n_test,
                                                           seed=seed, device=device)
        options = ck.TrainOptions(epochs, lr, precision=precision, channels_last="auto", compile=compile, seed=seed)
        history = ck.fit(net, train_iter, test_iter, options, device, reporters=[])
        wall = time.perf_counter() - start
    way = ("coursekit-compile" if compile else "coursekit-glibc-default" if not reuse_memory else
           {"auto": "coursekit"}.get(precision, f"coursekit-{precision or 'fp32'}"))
    return dict(way=way, precision=history.precision, channels_last=history.channels_last,
                images_per_sec=n_train * epochs / wall, train_loss=history.train_loss[-1],
                test_acc=history.test_acc[-1], seconds=wall, evaluated=n_test * epochs, probe_seconds=probe_seconds)


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
                test_acc=test_acc, seconds=wall, evaluated=n_test * epochs)  # train_ch6 tests after every epoch


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
                train_loss=None, test_acc=correct / total, seconds=wall, evaluated=n_test)  # None: a per-batch loss would cost a sync


WAYS = {
    "coursekit": run_coursekit,
    "coursekit-fp32": functools.partial(run_coursekit, precision=None),
    "coursekit-bf16": functools.partial(run_coursekit, precision="bf16"),
    "coursekit-compile": functools.partial(run_coursekit, compile=True),
    "coursekit-glibc-default": functools.partial(run_coursekit, reuse_memory=False),
    "d2l": run_d2l,
    "plain": run_plain,
}
# These two read the files through torchvision's folder layout, set up once in a temporary folder.
_TORCHVISION_WAYS = {"d2l", "plain"}


def matmul_rate(device: torch.device, dtype: torch.dtype, sizes=(1024, 2048), repeats: int = 5) -> float:
    """FLOP/s of the device's fastest square matrix product in ``dtype``: the roofline of its arithmetic.

    The best over two sizes and repeats: the library's rate depends on the size (on a 2-core AMD EPYC
    bf16 ran at 935, 881 and 811 GFLOP/s for 1024, 2048 and 4096, so larger sizes would only cost time),
    and the roofline is the best it can do.
    """
    best = 0.0
    for size in sizes:
        a = torch.randn(size, size, device=device).to(dtype)
        b = torch.randn(size, size, device=device).to(dtype)
        for _ in range(repeats + 1):  # the first product warms up the library
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            a @ b
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def step_flops_per_image(name: str, resize: int) -> tuple[int, int]:
    """FLOPs of one image's training step (forward + backward) and of its forward pass alone.

    Counted by ``torch.utils.flop_counter`` on the meta device: the backward is about twice the forward, a
    little less because nothing computes the gradient of the images themselves.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        net = ck.get_model(name)
        X = torch.empty(1, net.input_size[0], resize, resize)
        y = torch.zeros(1, dtype=torch.long)
    counter = FlopCounterMode(display=False)
    with counter:
        nn.functional.cross_entropy(net(X), y).backward()
    return int(counter.get_total_flops()), ck.flops(net, tuple(X.shape)).flops


def layer_rows(name: str, resize: int, batch_size: int, device: torch.device, precision: str | None,
               channels_last: bool) -> list[dict]:
    """Where a network's training step falls short of the roofline: each layer that multiplies matrices
    (convolutions, linear layers) timed alone, forward and backward, on its own input shape, then the whole
    step; the difference is the work that is not matrix arithmetic (normalisation, activations, pooling)."""
    from torch.utils.flop_counter import FlopCounterMode

    net = ck.get_model(name).to(device)
    shapes = {}
    layers = [(n, m) for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

    def record(module, args, out) -> None:
        shapes.setdefault(module, args[0].shape)

    hooks = [m.register_forward_hook(record) for _, m in layers]
    with torch.no_grad():
        net(torch.zeros(2, net.input_size[0], resize, resize, device=device))
    for hook in hooks:
        hook.remove()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net.to(memory_format=memory_format)

    def timed(step) -> tuple[int, float]:
        counter = FlopCounterMode(display=False)
        with counter:
            step()  # also the warm-up
        times = []
        for _ in range(3):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
        return int(counter.get_total_flops()), statistics.median(times)

    names = {module: name for name, module in layers}
    rows = []
    for i, module in enumerate(shapes):  # in the order the forward pass called them
        layer = names[module]
        x = torch.randn(batch_size, *shapes[module][1:], device=device)
        x = x.contiguous(memory_format=memory_format) if x.dim() == 4 else x
        x.requires_grad_(i > 0)  # training computes no gradient for the images themselves

        def step(module=module, x=x):
            with ck.evaluate.autocast(device, precision):
                out = module(x)
            out.backward(torch.ones_like(out))
            module.zero_grad(set_to_none=True)

        flops, seconds = timed(step)
        rows.append(dict(layer=layer, kind=type(module).__name__, input=list(shapes[module][1:]), flops=flops,
                         seconds=seconds))
    X = torch.randn(batch_size, net.input_size[0], resize, resize, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch_size,), device=device)

    def whole():
        with ck.evaluate.autocast(device, precision):
            loss = nn.functional.cross_entropy(net(X), y)
        loss.backward()
        net.zero_grad(set_to_none=True)

    flops, seconds = timed(whole)
    rows.append(dict(layer="the network, forward + backward", kind="", input=list(X.shape[1:]), flops=flops, seconds=seconds))
    return rows


def print_layers(title: str, rows: list[dict], rate: float) -> None:
    layers, whole = rows[:-1], rows[-1]
    print(title)
    print(f"  {'layer':<24} {'kind':<7} {'input':<14} {'GFLOP':>7} {'ms':>8} {'roofline':>9}")
    for row in layers:
        shape = "x".join(map(str, row["input"]))
        print(f"  {row['layer']:<24} {row['kind']:<7} {shape:<14} {row['flops'] / 1e9:>7.2f} "
              f"{row['seconds'] * 1e3:>8.1f} {row['roofline_share']:>9.0%}")
    flops, seconds = sum(row["flops"] for row in layers), sum(row["seconds"] for row in layers)
    print(f"  {'all of them, alone':<47} {flops / 1e9:>7.2f} {seconds * 1e3:>8.1f} {flops / seconds / rate:>9.0%}")
    print(f"  {whole['layer']:<47} {whole['flops'] / 1e9:>7.2f} {whole['seconds'] * 1e3:>8.1f} "
          f"{whole['roofline_share']:>9.0%}", flush=True)


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
    parser.add_argument("--repeats", type=int, default=1,
                        help="run every way this many times, in turn, and report each way's median run")
    parser.add_argument("--layers", action="store_true",
                        help="also time every convolution and linear layer alone, in the arithmetic coursekit chose")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    device = torch.device(args.device)
    if "d2l" in args.ways:
        try:
            import d2l  # noqa: F401
        except ImportError:
            sys.exit("The d2l baseline is missing: pip install --no-deps d2l==1.0.3 && pip install -e '.[baseline]' "
                     "(or leave d2l out of --ways)")

    # Read and verify the files once, before any row is timed: otherwise the first row would pay for it alone.
    ck.data.read_fashion_mnist("train"), ck.data.read_fashion_mnist("test")
    # The roofline is measured before the first row and after the last, and the better of the two kept: a shared
    # machine's rate drifts by 10% over a long run, and a share of a low reading would flatter every row.
    rates = {"fp32": matmul_rate(device, torch.float32), "bf16": matmul_rate(device, torch.bfloat16)}
    results, layer_reports = [], []
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
            flops, forward_flops = step_flops_per_image(name, resize)
            runs = {way: [] for way in args.ways}
            # Repeats go round the ways in turn, so that a shared machine's slow minute falls on every way
            # alike; each way then reports its median run.
            for _ in range(args.repeats):
                for way in args.ways:
                    row = WAYS[way](*common, *([workdir] if way in _TORCHVISION_WAYS else []))
                    achieved = (flops * n_train * args.epochs + forward_flops * row["evaluated"]) / row["seconds"]
                    row.update(model=f"{name}@{resize}", batch_size=batch_size, lr=lr, n_train=n_train,
                               epochs=args.epochs, device=str(device), training_flops_per_image=flops,
                               forward_flops_per_image=forward_flops, achieved_flops_per_sec=achieved)
                    runs[way].append(row)
                    # Printed as soon as it is measured: a long run shows its progress.
                    loss = "" if row["train_loss"] is None else f"  train loss {row['train_loss']:.3f}"
                    layout = " CL" if row.get("channels_last") else ""
                    probe = f"  (probe {row['probe_seconds']:.1f} s)" if row.get("probe_seconds") is not None else ""
                    print(f"{row['model']:<18} {row['way']:<23} {row['precision'] + layout:<8} "
                          f"{row['images_per_sec']:>10.1f} img/s  test acc {row['test_acc']:.3f}{loss}  "
                          f"{achieved / 1e9:,.0f} GFLOP/s{probe}", flush=True)
            rows = []
            for way, done in runs.items():
                row = sorted(done, key=lambda run: run["images_per_sec"])[(len(done) - 1) // 2]
                rows.append({**row, "images_per_sec_runs": [run["images_per_sec"] for run in done],
                             # the first run measures, later ones read the cache: the first says what it cost
                             "probe_seconds": done[0].get("probe_seconds")})
            if args.layers:
                X, y = ck.load_data_fashion_mnist(batch_size, resize, n_train=n_train, n_test=args.n_test,
                                                  seed=args.seed, device=device)[0].peek()
                chosen = ck.choose_fast_path(ck.get_model(name), X, y)
                layer_reports.append(dict(model=f"{name}@{resize}", batch_size=batch_size, arithmetic=chosen.label,
                                          precision=chosen.precision or "fp32",
                                          rows=layer_rows(name, resize, batch_size, device, chosen.precision,
                                                          chosen.channels_last)))
            d2l_speed = next((row["images_per_sec"] for row in rows if row["way"] == "d2l"), None)
            for row in rows:
                row["vs_d2l"] = row["images_per_sec"] / d2l_speed if d2l_speed else None
            if d2l_speed:
                print("  " + ", ".join(f"{row['way']} {row['vs_d2l']:.2f}x d2l" for row in rows), flush=True)
            fixed = [row["images_per_sec"] for row in rows if row["way"] in ("coursekit-fp32", "coursekit-bf16")]
            for row in rows:
                if row["way"] == "coursekit" and fixed:
                    row["vs_best_fixed"] = row["images_per_sec"] / max(fixed)
                    print(f"  coursekit (auto, {row['precision']}) at {row['vs_best_fixed']:.2f}x the faster of the "
                          "fixed-precision rows", flush=True)
            results += rows
    for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        rates[precision] = max(rates[precision], matmul_rate(device, dtype))
    print(f"roofline on {ck.fast_path.device_name(device)}: matrix products at "
          + ", ".join(f"{p} {r / 1e9:,.0f} GFLOP/s" for p, r in rates.items())
          + " (the better of a measurement before the first row and one after the last)")
    for row in results:
        row["roofline_flops_per_sec"] = rates.get(row["precision"])
        row["roofline_share"] = row["achieved_flops_per_sec"] / rates[row["precision"]] if row["precision"] in rates else None
        if row["roofline_share"] is not None:
            print(f"  {row['model']:<18} {row['way']:<23} {row['roofline_share']:>4.0%} of the {row['precision']} roofline")
    for report in layer_reports:
        rate = rates[report["precision"]]
        for row in report["rows"]:
            row["roofline_share"] = row["flops"] / row["seconds"] / rate
        print_layers(f"{report['model']}, batch {report['batch_size']}, {report['arithmetic']}, each layer alone:",
                     report["rows"], rate)
    if args.json:
        args.json.write_text(json.dumps({"device": ck.fast_path.device_name(device), "torch": torch.__version__,
                                         "matmul_flops_per_sec": rates, "rows": results,
                                         "layers": layer_reports}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
