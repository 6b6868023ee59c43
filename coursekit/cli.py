"""The ``coursekit`` command: list, inspect and train the course's models from a terminal.

    coursekit models
    coursekit doctor                                     # versions, device, data: is this setup tested?
    coursekit info resnet18_d2l --input 1x96x96
    coursekit train lenet --profile laptop --out runs/lenet
    coursekit train lenet --profile laptop --out runs/lenet --resume      # after Ctrl-C

Training follows the model's recipe (:mod:`coursekit.recipes`) for the
profile, the same run its chapter's notebook trains; options such as
``--epochs`` override single settings. It writes ``history.json``,
``curves.png`` and ``checkpoint.pt`` to ``--out``. Ctrl-C stops it with every finished epoch saved; ``--resume``
continues to the same result as an uninterrupted run. Bad arguments give one
line on stderr and a non-zero exit, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from . import config, data, inspect, models, recipes
from .reporters import SaveFiles, terminal_reporters
from .train import TrainingDiverged, check_compilable, fit

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
    profile = config.get_profile()
    print(f"{'model':<20} {'input':>12} {'parameters':>14}  {profile} recipe")
    trainable = recipes.trainable_models()
    for name in models.list_models():
        with torch.device("meta"):  # shapes and counts only: nothing is allocated or initialised
            net = models.get_model(name)
        size = "x".join(map(str, net.input_size))
        params = inspect.count_params(net).total
        if name in trainable:
            recipe = recipes.recipe(name, profile)
            note = f"{recipe.num_epochs} epochs, {recipe.optimizer} lr {recipe.lr:g}, batch {recipe.batch_size}"
        else:
            note = "ImageNet form (info only)"
        print(f"{name:<20} {size:>12} {params:>14,}  {note}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import report

    text, ok = report()
    print(text)
    return 0 if ok else 1


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


def _recipe(args: argparse.Namespace) -> recipes.Recipe:
    """The model's recipe for the profile, with the command line's overrides."""
    if args.model not in recipes.trainable_models():
        _build(args.model)  # an unknown name fails here, with the closest valid one
        raise CommandError(f"{args.model} is an ImageNet-form network (for `coursekit info`), not trained here; "
                           f"trainable models: {', '.join(recipes.trainable_models())}.")
    recipe = recipes.recipe(args.model, args.profile or config.get_profile())
    overrides = {"num_epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "resize": args.resize,
                 "n_train": args.n_train}
    try:
        return recipe.replace(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as error:
        raise CommandError(str(error)) from None


def _resume_command(args: argparse.Namespace, profile: str) -> str:
    """The command that continues this run: the same model, profile and overrides, with --resume."""
    words = ["coursekit", "train", args.model, "--profile", profile]
    for flag in ("epochs", "lr", "batch_size", "resize", "n_train", "device"):
        if getattr(args, flag) is not None:
            words += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if args.seed:
        words += ["--seed", str(args.seed)]
    if args.compile:
        words.append("--compile")
    return " ".join(words + ["--out", shlex.quote(str(args.out)), "--resume"])


def cmd_train(args: argparse.Namespace) -> int:
    recipe = _recipe(args)
    if args.dry_run:
        print(recipe)
        return 0
    if args.out is None:
        raise CommandError("--out FOLDER is required: where history.json, curves.png and checkpoint.pt go.")
    net = recipe.build(seed=args.seed)
    side = recipe.resize or 28
    try:
        with torch.no_grad():
            net.eval()(torch.zeros(1, net.input_size[0], side, side))
    except ValueError as error:
        raise CommandError(f"--resize {side} does not fit {args.model}: {error}") from None
    checkpoint = args.out / "checkpoint.pt"
    _check_out(args.out)
    if checkpoint.exists() and not args.resume:
        raise CommandError(f"{checkpoint} exists: pass --resume to continue that run, or choose another --out.")
    if args.resume and not checkpoint.exists():
        raise CommandError(f"--resume: no checkpoint in {args.out}; start without --resume.")
    device = torch.device(args.device) if args.device else config.try_gpu()
    if args.compile:
        try:
            check_compilable(device)
        except RuntimeError as error:
            raise CommandError(f"--compile: {error}") from None
    train_iter, test_iter = recipe.data(device, seed=args.seed)
    print(recipe, flush=True)
    print(f"on {device}, writing to {args.out}", flush=True)

    import matplotlib

    matplotlib.use("Agg")
    options = recipe.options(compile=args.compile, seed=args.seed, checkpoint=checkpoint, resume=args.resume)
    try:
        history = fit(net, train_iter, test_iter, options, device,
                      reporters=[SaveFiles(args.out, args.model), *terminal_reporters()])
    except (TrainingDiverged, ValueError) as error:
        raise CommandError(str(error)) from None
    if history.interrupted:
        print(f"Stopped: {len(history)} finished epoch(s) are saved in {args.out}. Continue with:\n"
              f"  {_resume_command(args, recipe.profile)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"wrote {args.out / 'history.json'}, {args.out / 'curves.png'} and {checkpoint}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description="List, inspect and train the course's models.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("models", help="list the models")
    commands.add_parser("doctor", help="versions, device and data, against the range CI tests")
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
    train.add_argument("--out", type=Path, required=False, help="folder for history.json, curves.png, checkpoint.pt")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    train.add_argument("--compile", action="store_true", help="train through torch.compile (pays on long runs)")
    train.add_argument("--dry-run", action="store_true", help="print the recipe and stop")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {"models": cmd_models, "info": cmd_info, "train": cmd_train, "doctor": cmd_doctor}[args.command]
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
