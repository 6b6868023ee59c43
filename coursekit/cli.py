"""The ``coursekit`` command: list, inspect and train the course's models from a terminal.

    coursekit models
    coursekit doctor                                     # versions, device, data: is this setup tested?
    coursekit info resnet18_d2l --input 1x96x96
    coursekit train lenet --profile laptop --out runs/lenet
    coursekit train lenet --profile laptop --out runs/lenet --resume      # after Ctrl-C
    coursekit grade submissions/*.ipynb --assignment hw2 --out grading/hw2   # homework, see coursekit.grade

Training follows the model's recipe (:mod:`coursekit.recipes`) for the
profile, the same run its chapter's notebook trains; options such as
``--epochs`` override single settings. It writes ``history.json``,
``curves.png`` and ``checkpoint.pt`` to ``--out``. Ctrl-C stops it with every
finished epoch saved; ``--resume`` continues, with the settings the checkpoint
recorded, to the same result as an uninterrupted run (a flag that differs from
them is refused; a larger ``--epochs`` extends a run without a schedule). Bad
arguments, devices, folders and files give one line on stderr and a non-zero
exit, not a traceback.
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
from .checkpoint import checkpoint_info
from .reporters import SaveFiles, terminal_reporters
from .train import TrainingDiverged, check_compilable, fit

EXIT_ERROR, EXIT_INTERRUPTED = 2, 130


class CommandError(Exception):
    """A problem with the user's arguments or files: printed as one line."""


def _whole(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name; give one, e.g. --out runs/lenet")
    return Path(text)


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


_FLAGS = {"num_epochs": "epochs", "lr": "lr", "batch_size": "batch_size", "resize": "resize", "n_train": "n_train"}
# What a checkpoint records (coursekit.checkpoint.run_settings) that a recipe sets too.
_RECORDED = ("num_epochs", "lr", "batch_size", "n_train", "n_test", "optimizer", "momentum", "weight_decay",
             "schedule", "init")


def _recipe(args: argparse.Namespace) -> recipes.Recipe:
    """The model's recipe for the profile, with the command line's overrides."""
    if args.model not in recipes.trainable_models():
        _build(args.model)  # an unknown name fails here, with the closest valid one
        raise CommandError(f"{args.model} is an ImageNet-form network (for `coursekit info`), not trained here; "
                           f"trainable models: {', '.join(recipes.trainable_models())}.")
    recipe = recipes.recipe(args.model, args.profile or config.get_profile())
    overrides = {name: getattr(args, flag) for name, flag in _FLAGS.items() if getattr(args, flag) is not None}
    try:
        return recipe.replace(**overrides)
    except ValueError as error:
        raise CommandError(str(error)) from None


def _resumed_recipe(args: argparse.Namespace, recipe: recipes.Recipe, checkpoint: Path) -> recipes.Recipe:
    """The recipe of the run saved in ``checkpoint``; refuses flags that would make it another run."""
    recorded = checkpoint_info(checkpoint)
    if not recorded.get("model"):
        return recipe  # written before checkpoints recorded their run: fit compares what it can
    if recorded["model"] != args.model:
        raise CommandError(f"{checkpoint} holds a run of {recorded['model']}, not {args.model}: resume it with "
                           f"`coursekit train {recorded['model']} --out {shlex.quote(str(args.out))} --resume`, or "
                           "choose another --out to train afresh.")
    saved = {name: recorded[name] for name in _RECORDED if name in recorded}
    for name, every in (("n_train", data.TRAIN_IMAGES), ("n_test", data.TEST_IMAGES)):
        if saved.get(name) == every:
            saved[name] = None  # a recipe says "all of them" as None
    side = (recorded.get("image_size") or [None])[0]
    saved["resize"] = None if side in (None, 28) else side
    if "seed" in recorded:
        saved["seed"] = recorded["seed"]
    wanted = {name: getattr(args, flag) for name, flag in (*_FLAGS.items(), ("seed", "seed"))
              if getattr(args, flag) is not None}
    if args.profile:  # an explicit profile asks for its recipe's settings
        wanted = {**{name: getattr(recipe, name) for name in saved if hasattr(recipe, name)}, **wanted}
    grows = "num_epochs" in wanted and not saved.get("schedule") and wanted["num_epochs"] >= saved.get("num_epochs", 0)
    differ = [f"{name} {saved[name]!r} there, {value!r} now" for name, value in wanted.items()
              if name in saved and value != saved[name] and not (name == "num_epochs" and grows)]
    if differ:
        raise CommandError(f"--resume: {checkpoint} holds {recorded['epochs']} epoch(s) of a run with other settings "
                           f"({'; '.join(differ)}). Resume with just `coursekit train {args.model} --out "
                           f"{shlex.quote(str(args.out))} --resume` (it reuses them), or choose another --out.")
    args.seed = saved.pop("seed", args.seed)
    try:
        return recipe.replace(**{**saved, **{k: v for k, v in wanted.items() if k != "seed"}})
    except ValueError as error:
        raise CommandError(str(error)) from None


def _resume_command(args: argparse.Namespace) -> str:
    """The command that continues this run: the checkpoint keeps its settings."""
    return f"coursekit train {args.model} --out {shlex.quote(str(args.out))} --resume"


def cmd_train(args: argparse.Namespace) -> int:
    recipe = _recipe(args)
    checkpoint = args.out / "checkpoint.pt" if args.out is not None else None
    if args.resume:
        if checkpoint is None:
            raise CommandError("--resume needs --out FOLDER: the folder of the run to continue.")
        if not checkpoint.is_file():
            raise CommandError(f"--resume: no checkpoint in {args.out}; start without --resume.")
        try:
            recipe = _resumed_recipe(args, recipe, checkpoint)
        except ValueError as error:  # an unreadable checkpoint
            raise CommandError(str(error)) from None
    if args.dry_run:
        print(recipe)
        return 0
    if checkpoint is None:
        raise CommandError("--out FOLDER is required: where history.json, curves.png and checkpoint.pt go.")
    if checkpoint.exists() and not args.resume:
        raise CommandError(f"{checkpoint} exists: pass --resume to continue that run, or choose another --out.")
    seed = 0 if args.seed is None else args.seed
    try:
        device = config.check_device(args.device)
    except ValueError as error:
        raise CommandError(f"--device: {error}") from None
    if args.compile:
        try:
            check_compilable(device)
        except RuntimeError as error:
            raise CommandError(f"--compile: {error}") from None
    _check_out(args.out)
    net = recipe.build(seed=seed)
    side = recipe.resize or 28
    try:
        with torch.no_grad():
            net.eval()(torch.zeros(1, net.input_size[0], side, side))
    except ValueError as error:
        raise CommandError(f"--resize {side} does not fit {args.model}: {error}") from None
    train_iter, test_iter = recipe.data(device, seed=seed)
    print(recipe, flush=True)
    print(f"on {device}, writing to {args.out}", flush=True)

    import matplotlib

    matplotlib.use("Agg")
    options = recipe.options(compile=args.compile, seed=seed, checkpoint=checkpoint, resume=args.resume)
    try:
        history = fit(net, train_iter, test_iter, options, device,
                      reporters=[SaveFiles(args.out, args.model), *terminal_reporters()])
    except (TrainingDiverged, ValueError) as error:
        raise CommandError(str(error)) from None
    if history.interrupted:
        saved = checkpoint_info(checkpoint)["epochs"] if checkpoint.is_file() else 0
        print(f"Stopped: {saved} finished epoch(s) are saved in {checkpoint}. Continue with:\n"
              f"  {_resume_command(args)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"wrote {args.out / 'history.json'}, {args.out / 'curves.png'} and {checkpoint}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    try:
        from .grade import grade
    except ImportError as error:
        raise CommandError(f"coursekit grade needs nbgrader ({error}): pip install 'coursekit[grading]'.") from None
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        raise CommandError(f"no such submission: {', '.join(missing)}.")
    results = grade(args.submissions, args.assignment, args.out, time_limit=args.time_limit,
                    **({"course": args.course} if args.course else {}))
    print((args.out / "grades.md").read_text())
    print(f"wrote {args.out / 'grades.csv'}, {args.out / 'grades.md'} and {len(results)} file(s) in "
          f"{args.out / 'feedback'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description="List, inspect and train the course's models.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("models", help="list the models")
    commands.add_parser("doctor", help="versions, device and data, against the range CI tests")
    info = commands.add_parser("info", help="layer shapes, parameters, FLOPs and receptive field of a model")
    info.add_argument("model")
    info.add_argument("--input", type=_parse_input, help="input size CxHxW (default: the model's own)")
    info.add_argument("--depth", type=_whole(1), default=None, help="how deep to list nested modules")
    train = commands.add_parser("train", help="train a model on Fashion-MNIST")
    train.add_argument("model")
    train.add_argument("--profile", choices=config.PROFILES, help="default: $COURSEKIT_PROFILE, else by device")
    train.add_argument("--epochs", type=_whole(1))
    train.add_argument("--lr", type=_positive)
    train.add_argument("--batch-size", type=_whole(1))
    train.add_argument("--resize", type=_whole(1), help=f"image side, up to {data.MAX_RESIZE}")
    train.add_argument("--n-train", type=_whole(1), help=f"train on a subset of this many images (of {data.TRAIN_IMAGES:,})")
    train.add_argument("--seed", type=_whole(0), help="default 0")
    train.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    train.add_argument("--out", type=_folder, required=False, help="folder for history.json, curves.png, checkpoint.pt")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out, with its settings")
    train.add_argument("--compile", action="store_true", help="train through torch.compile (pays on long runs)")
    train.add_argument("--dry-run", action="store_true", help="print the recipe and stop")
    grading = commands.add_parser("grade", help="autograde students' homework notebooks (nbgrader, runs their code)")
    grading.add_argument("submissions", nargs="+", type=Path, help="<student>.ipynb files")
    grading.add_argument("--assignment", required=True, help="e.g. hw2: notebooks/homework/source/hw2/hw2.ipynb")
    grading.add_argument("--out", type=_folder, required=True, help="nbgrader course folder for grades and feedback")
    grading.add_argument("--time-limit", type=_whole(1), default=900, help="seconds per notebook (default 900)")
    grading.add_argument("--course", type=Path, help="folder with source/<assignment>/ (default: the course's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {"models": cmd_models, "info": cmd_info, "train": cmd_train, "doctor": cmd_doctor,
               "grade": cmd_grade}[args.command]
    try:
        return command(args)
    except KeyboardInterrupt:  # before training started, or a second Ctrl-C while the files were written
        out = getattr(args, "out", None)
        kept = f"; every finished epoch saved before it is in {out / 'checkpoint.pt'}" if out and (
            out / "checkpoint.pt").is_file() else ""
        print(f"coursekit: interrupted{kept}.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `coursekit models | head` closed the pipe: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CommandError, ValueError, OSError) as error:
        # Every expected failure (arguments, profile, data, folders, a full disk) is one line; a bug still shows
        # its traceback.
        message = str(error).strip() or type(error).__name__
        print(f"coursekit: error: {message}", file=sys.stderr)
        return EXIT_ERROR
