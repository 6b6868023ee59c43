"""coursekit: the package behind the course on modern convolutional networks.

Everything a notebook needs is importable from here::

    import coursekit as ck
    train_iter, test_iter = ck.load_data_fashion_mnist(batch_size=256)
    history = ck.train_ch6(net, train_iter, test_iter, num_epochs=10, lr=0.9)
"""

from . import check, compare, inspect, models
from .config import describe_profile, fast_precision, for_profile, get_profile, seed_everything, try_all_gpus, try_gpu
from .data import (
    CorruptFileError,
    DatasetNotFoundError,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
)
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
from .train import (
    History,
    TrainingDiverged,
    confusion_matrix,
    evaluate_accuracy,
    init_weights,
    load_checkpoint,
    predict,
    save_checkpoint,
    train_ch6,
)

__version__ = "0.1.0"

__all__ = [
    "summary",
    "receptive_field",
    "layer_shapes",
    "memory",
    "inspect",
    "flops",
    "effective_receptive_field",
    "count_params",
    "CorruptFileError",
    "DatasetNotFoundError",
    "History",
    "LiveFigure",
    "TrainingDiverged",
    "confusion_matrix",
    "describe_profile",
    "evaluate_accuracy",
    "fast_precision",
    "for_profile",
    "check",
    "compare",
    "get_fashion_mnist_labels",
    "get_model",
    "get_profile",
    "init_weights",
    "list_models",
    "load_checkpoint",
    "load_data_fashion_mnist",
    "models",
    "plot_confusion_matrix",
    "predict",
    "save_checkpoint",
    "seed_everything",
    "set_figsize",
    "show_images",
    "train_ch6",
    "try_all_gpus",
    "try_gpu",
]
