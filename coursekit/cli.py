"""The ``coursekit`` command: list, inspect and train the course's models from a terminal.

    coursekit models
    coursekit info resnet18_d2l --input 1x96x96
    coursekit train lenet --profile laptop --out runs/lenet
    coursekit train lenet --out runs/lenet --resume      # after Ctrl-C

Training writes ``history.json``, ``curves.png`` and ``checkpoint.pt`` to
``--out``. Ctrl-C stops it with every finished epoch saved; ``--resume``
continues to the same result as an uninterrupted run. Bad arguments give one
line on stderr and a non-zero exit, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from . import config, data, inspect, models
from .train import History, TrainingDiverged, _check_compilable, _train

# d2l's hyper-parameters per trainable model (COURSE.md): learning rate, batch size, image side.
RECIPES = {
    "lenet": (0.9, 256, 28),
    "lenet_modern": (0.1, 256, 28),
    "bn_lenet_scratch": (1.0, 256, 28),
    "bn_lenet": (1.0, 256, 28),
    "alexnet": (0.01, 128, 224),
    "vgg11_narrow": (0.05, 128, 224),
    "nin": (0.1, 128, 224),
    "googlenet": (0.1, 128, 96),
    "resnet18_d2l": (0.05, 256, 96),
    "densenet": (0.1, 256, 96),
}
# How much data and how many epochs each profile trains on: (images, test images, epochs); None = all.
PROFILE_SIZES = {"smoke": (512, 256, 1), "laptop": (10_000, 2_000, 5), "full": (None, None, 10)}
EXIT_ERROR, EXIT_INTERRUPTED = 2, 130


class CommandError(Exception):
    """A problem with the user's arguments or files: printed as one line."""


def _parse_input(text: str) -> tuple[int, int, int]:
    try:
        size = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        size = ()
    if len(size) != 3 or min(size) < 1:
        raise argparse.ArgumentTypeError(f"--input must look like CxHxW, e.g. 1x224x224, got {text!r}")
    return size


def _build(name: str, **kwargs) -> torch.nn.Module:
    try:
        return models.get_model(name, **kwargs)
    except ValueError as error:
        raise CommandError(str(error)) from None


def cmd_models(args: argparse.Namespace) -> int:
    print(f"{'model':<20} {'input':>12} {'parameters':>14}  trainable here with default settings")
    for name in models.list_models():
        net = models.get_model(name)
        size = "x".join(map(str, net.input_size))
        params = sum(p.numel() for p in net.parameters())
        recipe = RECIPES.get(name)
        note = f"lr {recipe[0]}, batch {recipe[1]}, resize {recipe[2]}" if recipe else "ImageNet form (info only)"
        print(f"{name:<20} {size:>12} {params:>14,}  {note}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    net = _build(args.model)
    size = args.input or net.input_size
    shape = (1, *size)
    try:
        print(inspect.layer_shapes(net, shape, depth=args.depth))
        print()
        print(inspect.flops(net, shape))
        print()
        print(inspect.receptive_field(net, shape))
    except ValueError as error:
        raise CommandError(str(error).splitlines()[0]) from None
    return 0


def _check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".coursekit-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise CommandError(f"cannot write to --out {out}: {error.strerror or error}; choose another folder.") from None


def _save_outputs(out: Path, history: History, title: str) -> None:
    (out / "history.json").write_text(json.dumps(history.to_dict(), indent=1))
    import matplotlib

    matplotlib.use("Agg")
    ax = history.plot(title=title)
    ax.figure.savefig(out / "curves.png", dpi=120, bbox_inches="tight")


def cmd_train(args: argparse.Namespace) -> int:
    config.seed_everything(args.seed)  # before building: the biases keep PyTorch's random init
    net = _build(args.model)  # an unknown name fails here, with the closest valid one
    if args.model not in RECIPES:
        raise CommandError(f"{args.model} is an ImageNet-form network (for `coursekit info`), not trained here; "
                           f"trainable models: {', '.join(RECIPES)}.")
    profile = args.profile or config.get_profile()
    lr, batch_size, resize = RECIPES[args.model]
    n_train, n_test, epochs = PROFILE_SIZES[profile]
    lr = args.lr or lr
    batch_size = args.batch_size or batch_size
    resize = args.resize or resize
    epochs = args.epochs or epochs
    n_train = args.n_train or n_train

    try:
        with torch.no_grad():
            net.eval()(torch.zeros(1, net.input_size[0], resize, resize))
    except ValueError as error:
        raise CommandError(f"--resize {resize} does not fit {args.model}: {error}") from None
    checkpoint = args.out / "checkpoint.pt"
    _check_out(args.out)
    if checkpoint.exists() and not args.resume:
        raise CommandError(f"{checkpoint} exists: pass --resume to continue that run, or choose another --out.")
    if args.resume and not checkpoint.exists():
        raise CommandError(f"--resume: no checkpoint in {args.out}; start without --resume.")
    device = torch.device(args.device) if args.device else config.try_gpu()
    if args.compile:
        try:
            _check_compilable(device)
        except RuntimeError as error:
            raise CommandError(f"--compile: {error}") from None
    train_iter, test_iter = data.load_data_fashion_mnist(
        batch_size, resize, n_train=n_train, n_test=n_test, seed=args.seed, device=device)
    print(f"{args.model} on Fashion-MNIST ({profile} profile): {train_iter.num_examples} images at "
          f"{resize}x{resize}, {epochs} epochs, lr {lr}, batch {batch_size}, on {device}", flush=True)

    def report(epoch: int, num_epochs: int, history: History) -> None:
        _save_outputs(args.out, history, args.model)  # first, so a Ctrl-C after the line finds them written
        tqdm.write(f"epoch {epoch + 1}/{num_epochs}: loss {history.train_loss[-1]:.3f}, "
                   f"train acc {history.train_acc[-1]:.3f}, test acc {history.test_acc[-1]:.3f}")

    try:
        history = _train(net, train_iter, test_iter, epochs, lr, device, optimizer="sgd", momentum=0.0,
                         weight_decay=0.0, schedule=None, precision=None, channels_last=False, compile=args.compile,
                         init="xavier",
                         seed=args.seed, checkpoint=checkpoint, resume=args.resume, live=False, on_epoch=report,
                         verbose=True, progress_bar=True)
    except (TrainingDiverged, ValueError) as error:
        raise CommandError(str(error)) from None
    if history.interrupted:
        if len(history):
            _save_outputs(args.out, history, args.model)
        print(f"Stopped: {len(history)} finished epoch(s) are saved in {args.out}. Continue with:\n"
              f"  coursekit train {args.model} --out {args.out} --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    _save_outputs(args.out, history, args.model)
    print(history.final_line())
    print(f"wrote {args.out / 'history.json'}, {args.out / 'curves.png'} and {checkpoint}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description="List, inspect and train the course's models.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("models", help="list the models")
    info = commands.add_parser("info", help="layer shapes, parameters, FLOPs and receptive field of a model")
    info.add_argument("model")
    info.add_argument("--input", type=_parse_input, help="input size CxHxW (default: the model's own)")
    info.add_argument("--depth", type=int, default=None, help="how deep to list nested modules")
    train = commands.add_parser("train", help="train a model on Fashion-MNIST")
    train.add_argument("model")
    train.add_argument("--profile", choices=config.PROFILES, help="default: $COURSEKIT_PROFILE, else by device")
    train.add_argument("--epochs", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--resize", type=int)
    train.add_argument("--n-train", type=int, help="train on a subset of this many images")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    train.add_argument("--out", type=Path, required=True, help="folder for history.json, curves.png, checkpoint.pt")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    train.add_argument("--compile", action="store_true", help="train through torch.compile (pays on long runs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {"models": cmd_models, "info": cmd_info, "train": cmd_train}[args.command]
    try:
        return command(args)
    except CommandError as error:
        print(f"coursekit: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except (data.DatasetNotFoundError, data.CorruptFileError) as error:
        print(f"coursekit: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `coursekit models | head` closed the pipe: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
