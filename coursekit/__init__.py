"""coursekit: the package behind the course on modern convolutional networks.

Everything a notebook needs is importable from here::

    import coursekit as ck

    device = ck.lesson.prologue()                   # profile, seed and device, printed
    recipe = ck.recipe("lenet")                     # how the chapter trains LeNet in this profile
    train_iter, test_iter = recipe.data()
    net = recipe.build()
    history = ck.fit(net, train_iter, test_iter, recipe.options())

or, with d2l's call shape::

    train_iter, test_iter = ck.load_data_fashion_mnist(batch_size=256)
    history = ck.train_ch6(net, train_iter, test_iter, num_epochs=10, lr=0.9)

Subpackages and modules: :mod:`~coursekit.models` (every network),
:mod:`~coursekit.inspect` (shapes, parameters, cost, receptive fields),
:mod:`~coursekit.check` (exercise checks), :mod:`~coursekit.explain` (what a trained network sees),
:mod:`~coursekit.exercises` (``ck.exercise("04.1")``, progress), :mod:`~coursekit.recipes`,
:mod:`~coursekit.reporters`, :mod:`~coursekit.lesson`, :mod:`~coursekit.compare`
and :mod:`~coursekit.d2l` (the drop-in for d2l's helpers).
"""

from . import check, compare, exercises, explain, fast_path, inspect, lesson, models, recipes, reporters
from .augment import Augment
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import (
    describe_profile,
    for_profile,
    get_profile,
    seed_everything,
    try_all_gpus,
    try_gpu,
)
from .data import (
    CorruptFileError,
    DatasetNotFoundError,
    DeviceLoader,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
    load_fashion_mnist_classes,
    load_fashion_mnist_validation,
)
from .evaluate import confusion_matrix, evaluate_accuracy, predict
from .exercises import exercise
from .fast_path import choose_fast_path
from .history import History
from .inspect import (
    count_params,
    effective_receptive_field,
    flops,
    layer_shapes,
    memory,
    receptive_field,
    summary,
)
from .models import get_model, list_models
from .plot import LiveFigure, plot_confusion_matrix, set_figsize, show_images
from .recipes import Recipe, recipe
from .sanity import initial_loss, lr_range_test, overfit_one_batch
from .train import TrainingDiverged, TrainOptions, fit, init_weights, train_ch6
from .trained import load_or_train

__version__ = "0.1.0"

__all__ = [
    "Augment",
    "CheckpointError",
    "CorruptFileError",
    "DatasetNotFoundError",
    "DeviceLoader",
    "History",
    "LiveFigure",
    "Recipe",
    "TrainOptions",
    "TrainingDiverged",
    "check",
    "choose_fast_path",
    "compare",
    "confusion_matrix",
    "count_params",
    "describe_profile",
    "effective_receptive_field",
    "evaluate_accuracy",
    "exercise",
    "exercises",
    "explain",
    "fast_path",
    "fit",
    "flops",
    "for_profile",
    "get_fashion_mnist_labels",
    "get_model",
    "get_profile",
    "init_weights",
    "initial_loss",
    "inspect",
    "layer_shapes",
    "lesson",
    "list_models",
    "load_checkpoint",
    "load_data_fashion_mnist",
    "load_fashion_mnist_classes",
    "load_fashion_mnist_validation",
    "load_or_train",
    "lr_range_test",
    "memory",
    "models",
    "overfit_one_batch",
    "plot_confusion_matrix",
    "predict",
    "receptive_field",
    "recipe",
    "recipes",
    "reporters",
    "save_checkpoint",
    "seed_everything",
    "set_figsize",
    "show_images",
    "summary",
    "train_ch6",
    "try_all_gpus",
    "try_gpu",
]
