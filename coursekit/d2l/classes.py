"""The class API of *Dive into Deep Learning* 1.0 (the English edition): ``d2l.Classifier``, ``d2l.Trainer``...

The book's chapters subclass :class:`Module` or :class:`Classifier`, load
:class:`FashionMNIST` and call ``d2l.Trainer(max_epochs, num_gpus).fit(model,
data)``. The same code runs here with the book's names, signatures and plotted
series, and with coursekit underneath:

* :class:`FashionMNIST` keeps the images on the training device and resizes
  whole batches there (no PIL, no worker processes);
* :class:`Trainer` trains in the precision and memory layout that
  :func:`coursekit.choose_fast_path` measures fastest for a classifier,
  reads the plotted values back to the host only when a point is drawn, and
  stops cleanly on Ctrl-C, keeping what was trained;
* ``num_gpus=1`` picks coursekit's device: CUDA, Apple's MPS, or the CPU.
"""

from __future__ import annotations

import collections
import inspect

import torch
import torch.nn.functional as F
from torch import nn

from ..allocator import reuse_freed_memory
from ..config import try_gpu
from ..data import TEXT_LABELS, DeviceLoader, check_count, read_fashion_mnist, subset_indices
from ..evaluate import autocast
from ..fast_path import choose_fast_path
from ..plot import in_notebook, show_images, show_in_place

__all__ = ["Classifier", "DataModule", "FashionMNIST", "HyperParameters", "LeNet", "Module", "ProgressBoard",
           "ResNeXtBlock", "Trainer", "add_to_class", "init_cnn"]


def add_to_class(Class):
    """Decorator: add the function below it to ``Class`` as a method (how the book grows a class cell by cell)."""
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
    return wrapper


class HyperParameters:
    """Base class whose ``save_hyperparameters()`` turns the caller's arguments into attributes."""

    def save_hyperparameters(self, ignore=[]):  # noqa: B006 - the book's signature
        """Save the arguments of the calling ``__init__`` as attributes (and in ``self.hparams``)."""
        frame = inspect.currentframe().f_back
        _, _, _, local_vars = inspect.getargvalues(frame)
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in set(ignore + ["self"]) and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)


class ProgressBoard(HyperParameters):
    """Points plotted during training: every ``every_n`` points of a series are averaged into one.

    ``data[label]`` holds the drawn points, as in d2l. The figure is redrawn in
    place in Jupyter and not drawn in a terminal (``display=False`` never draws).
    Values may be tensors on any device: they are read back only when a point is drawn.
    """

    def __init__(self, xlabel=None, ylabel=None, xlim=None, ylim=None, xscale="linear", yscale="linear",
                 ls=["-", "--", "-.", ":"], colors=["C0", "C1", "C2", "C3"], fig=None, axes=None,  # noqa: B006
                 figsize=(3.5, 2.5), display=True):
        self.save_hyperparameters()
        self._handle = None

    def draw(self, x, y, label, every_n=1):
        Point = collections.namedtuple("Point", ["x", "y"])
        if not hasattr(self, "raw_points"):
            self.raw_points = collections.OrderedDict()
            self.data = collections.OrderedDict()
        if label not in self.raw_points:
            self.raw_points[label] = []
            self.data[label] = []
        points = self.raw_points[label]
        points.append(Point(x, y))
        if len(points) != every_n:
            return
        ys = [p.y for p in points]
        mean_y = (torch.stack([torch.as_tensor(v, dtype=torch.float32) for v in ys]).mean().item()
                  if any(isinstance(v, torch.Tensor) for v in ys) else sum(ys) / len(ys))
        self.data[label].append(Point(sum(p.x for p in points) / len(points), float(mean_y)))
        points.clear()
        if self.display and in_notebook():
            self._redraw()

    def _redraw(self) -> None:
        from matplotlib import pyplot as plt

        if self.fig is None:
            self.fig = plt.figure(figsize=self.figsize)
            plt.close(self.fig)  # shown through show_in_place only, not again at the end of the cell
        axes = self.axes if self.axes else (self.fig.axes[0] if self.fig.axes else self.fig.add_subplot())
        axes.cla()
        for (label, points), ls, color in zip(self.data.items(), self.ls, self.colors):
            axes.plot([p.x for p in points], [p.y for p in points], linestyle=ls, color=color, label=label)
        if self.xlim:
            axes.set_xlim(self.xlim)
        if self.ylim:
            axes.set_ylim(self.ylim)
        axes.set_xlabel(self.xlabel or "x")
        axes.set_ylabel(self.ylabel)
        axes.set_xscale(self.xscale)
        axes.set_yscale(self.yscale)
        axes.legend()
        self._handle = show_in_place(self.fig, self._handle)


class Module(nn.Module, HyperParameters):
    """Base class of the book's models: ``self.net``, a ``loss``, an optimizer, and points on a board."""

    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError

    def forward(self, X):
        assert hasattr(self, "net"), "Neural network is defined"
        return self.net(X)

    def plot(self, key, value, train):
        """Add ``value`` (a tensor is fine: it is not read back here) to the series ``train_key``/``val_key``."""
        assert hasattr(self, "trainer"), "Trainer is not inited"
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        value = value.detach() if isinstance(value, torch.Tensor) else value
        self.board.draw(x, value, ("train_" if train else "val_") + key, every_n=int(n))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741 - the book's name
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741
        self.plot("loss", l, train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        """Run ``inputs`` through the network once (lazy layers learn their sizes), then ``net.apply(init)``."""
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class Classifier(Module):
    """Base class of the book's classifiers: cross-entropy loss, accuracy, and a layer-by-layer summary."""

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        """The share (or, with ``averaged=False``, the 0/1 vector) of correct predictions."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(dim=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        return F.cross_entropy(Y_hat, Y.reshape((-1,)), reduction="mean" if averaged else "none")

    def layer_summary(self, X_shape):
        """Print each layer of ``self.net`` with the shape of its output for a random input of ``X_shape``."""
        X = torch.randn(*X_shape)
        for layer in self.net:
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)


def init_cnn(module: nn.Module) -> None:
    """Xavier-uniform weights for ``Linear`` and ``Conv2d`` layers (use with ``net.apply``)."""
    if type(module) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(module.weight)


class DataModule(HyperParameters):
    """Base class of the book's datasets: ``train_dataloader()`` and ``val_dataloader()``."""

    def __init__(self, root="../data", num_workers=4):
        self.save_hyperparameters()

    def get_dataloader(self, train):
        raise NotImplementedError

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        tensors = tuple(a[indices] for a in tensors)
        dataset = torch.utils.data.TensorDataset(*tensors)
        return torch.utils.data.DataLoader(dataset, self.batch_size, shuffle=train)


class _Split(torch.utils.data.Dataset):
    """One split of Fashion-MNIST as the book indexes it: ``data.train[i]`` is ``(image, label)``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, resize) -> None:
        self.images, self.labels, self.resize = images, labels, resize

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        X = self.images[i].float().div(255)
        if tuple(X.shape[-2:]) != tuple(self.resize):
            from torchvision.transforms.v2 import functional as TF

            X = TF.resize(X, list(self.resize), antialias=True)
        return X, int(self.labels[i])


class FashionMNIST(DataModule):
    """Fashion-MNIST as the book's data module, its images held on coursekit's device.

    ``root`` and ``num_workers`` are accepted for the book's code and not
    needed: the files are found as :func:`coursekit.find_fashion_mnist` finds
    them, and batches are cut from tensors on the device. ``n_train`` and
    ``n_test`` (not in the book) take a fixed random subset, for short runs.
    """

    def __init__(self, batch_size=64, resize=(28, 28), *, n_train: int | None = None, n_test: int | None = None,
                 seed: int = 0):
        super().__init__()
        self.save_hyperparameters(ignore=["n_train", "n_test", "seed"])
        self.device = try_gpu()
        self.seed = seed
        splits = []
        for split, n in (("train", n_train), ("test", n_test)):
            images, labels = read_fashion_mnist(split)
            if n is not None:
                n = check_count(n, f"n_{split}", len(labels))
                index = subset_indices(len(labels), n, seed)
                images, labels = images[index], labels[index]
            splits.append(_Split(images.to(self.device), labels.to(self.device), tuple(resize)))
        self.train, self.val = splits

    def text_labels(self, indices):
        return [TEXT_LABELS[int(i)] for i in indices]

    def get_dataloader(self, train):
        split = self.train if train else self.val
        if not isinstance(split, _Split):  # the learner replaced it (e.g. by a Subset): PyTorch's loader
            return torch.utils.data.DataLoader(split, self.batch_size, shuffle=train)
        resize = None if tuple(split.images.shape[-2:]) == split.resize else split.resize
        return DeviceLoader(split.images, split.labels, self.batch_size, shuffle=train, resize=resize,
                            seed=self.seed, device=self.device)

    def visualize(self, batch, nrows=1, ncols=8, labels=[]):  # noqa: B006
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        show_images(X.squeeze(1).cpu(), nrows, ncols, titles=labels)


class Trainer(HyperParameters):
    """``Trainer(max_epochs, num_gpus).fit(model, data)``: the book's loop, on coursekit's device and fast path.

    ``num_gpus=0`` trains on the CPU, ``num_gpus>=1`` on :func:`coursekit.try_gpu`'s
    device. A :class:`Classifier` trains in the precision and layout that
    :func:`coursekit.choose_fast_path` measures fastest (``self.fast_path``);
    other models in fp32. Ctrl-C stops after the current batch: the model keeps
    what it learned, ``self.interrupted`` is True.
    """

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        self.device = try_gpu() if num_gpus > 0 else torch.device("cpu")
        self.gpus = [self.device] if self.device.type != "cpu" else []

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        model.to(self.device)
        self.model = model

    def prepare_batch(self, batch):
        return [a.to(self.device, non_blocking=True) for a in batch]

    def _choose_fast_path(self) -> None:
        self.fast_path, self.precision, self.memory_format = None, None, torch.contiguous_format
        if not isinstance(self.model, Classifier):
            return
        X, y = self.prepare_batch(next(iter(self.train_dataloader)))
        if any(isinstance(p, nn.parameter.UninitializedParameter) for p in self.model.parameters()):
            # Lazy layers learn their sizes from a first batch, as they would from the first training step.
            was_training = self.model.training
            with torch.no_grad():
                self.model.eval()(X)
            self.model.train(was_training)
        # The book's models keep their layers in self.net; the model itself may hold what cannot be copied (the
        # save_hyperparameters of a class defined in a function also saves the function's free variables).
        measured = self.model.net if type(self.model).forward is Module.forward else self.model
        try:
            self.fast_path = choose_fast_path(measured, X, y)
        except Exception:  # noqa: BLE001 - a model the measurement cannot run trains in fp32, as in the book
            return
        self.precision = self.fast_path.precision
        if self.fast_path.channels_last:
            self.memory_format = torch.channels_last
            self.model.to(memory_format=torch.channels_last)

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        self.interrupted = False
        try:
            with reuse_freed_memory(self.device):
                self._choose_fast_path()
                for self.epoch in range(self.max_epochs):
                    self.fit_epoch()
        except KeyboardInterrupt:
            self.interrupted = True
            print(f"Interrupted in epoch {self.epoch + 1}: the model keeps what it learned so far.", flush=True)
        finally:
            model.to(memory_format=torch.contiguous_format)

    def _batch(self, batch):
        batch = self.prepare_batch(batch)
        if self.memory_format is torch.channels_last and batch[0].dim() == 4:
            batch[0] = batch[0].contiguous(memory_format=torch.channels_last)
        return batch

    def fit_epoch(self):
        self.model.train()
        for batch in self.train_dataloader:
            with autocast(self.device, self.precision):
                loss = self.model.training_step(self._batch(batch))
            self.optim.zero_grad()
            loss.backward()
            if self.gradient_clip_val > 0:
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad(), autocast(self.device, self.precision):
                self.model.validation_step(self._batch(batch))
            self.val_batch_idx += 1

    def clip_gradients(self, grad_clip_val, model):
        params = [p for p in model.parameters() if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        if norm > grad_clip_val:
            for param in params:
                param.grad[:] *= grad_clip_val / norm


class LeNet(Classifier):
    """The book's LeNet-5 (sigmoid, average pooling, lazy layers), as ``d2l.LeNet(lr, num_classes)``."""

    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(), nn.LazyLinear(120), nn.Sigmoid(), nn.LazyLinear(84), nn.Sigmoid(),
            nn.LazyLinear(num_classes))


class ResNeXtBlock(nn.Module):
    """The book's ResNeXt block: 1x1, grouped 3x3, 1x1, each with batch norm, plus a shortcut.

    As in d2l 1.0, the 3x3 convolution has ``bot_channels // groups`` groups
    (so ``groups`` is the number of channels per group); the output has
    ``num_channels`` channels and ``strides`` halves the side when 2.
    """

    def __init__(self, num_channels, groups, bot_mul, use_1x1conv=False, strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.LazyConv2d(bot_channels, kernel_size=1, stride=1)
        self.conv2 = nn.LazyConv2d(bot_channels, kernel_size=3, stride=strides, padding=1,
                                   groups=bot_channels // groups)
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=1)
        self.bn1, self.bn2, self.bn3 = nn.LazyBatchNorm2d(), nn.LazyBatchNorm2d(), nn.LazyBatchNorm2d()
        if use_1x1conv:
            self.conv4 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.LazyBatchNorm2d()
        else:
            self.conv4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)
