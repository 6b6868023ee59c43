"""coursekit.train: fit and train_ch6 learn, keep their history, explain bad options, resume exactly."""

import math
import re

import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit.train import TrainingDiverged, TrainOptions, fit, init_weights
from tests.helpers import Tripwire, small_lenet


@pytest.fixture(scope="module")
def subset(fashion_root):
    return ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=2000, n_test=1000)


def test_lenet_learns_on_a_real_subset(subset):
    train_iter, test_iter = subset
    # The biases keep PyTorch's init, drawn when the net is built: seed it, or the result depends on
    # which tests ran before (one draw in six of this short, high-momentum run dies at 10%).
    torch.manual_seed(0)
    history = ck.train_ch6(small_lenet(), train_iter, test_iter, num_epochs=3, lr=0.1, device="cpu",
                           momentum=0.9, verbose=False)
    assert len(history) == 3 and not history.interrupted
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.6  # chance is 0.1
    assert history.device == "cpu" and history.precision == "fp32"
    assert history.examples == [2000, 2000, 2000] and all(s > 0 for s in history.train_seconds)
    assert all(total >= train for total, train in zip(history.seconds, history.train_seconds))


def test_same_seed_same_run(fashion_root):
    def run(seed):
        ck.seed_everything(seed)  # the biases keep PyTorch's init, drawn when the net is built
        train_iter, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=1000, n_test=500)
        return ck.train_ch6(small_lenet(), train_iter, test_iter, 2, 0.1, "cpu", seed=seed, verbose=False)

    a, b, c = run(7), run(7), run(8)
    assert a.train_loss == b.train_loss and a.test_acc == b.test_acc
    assert a.train_loss != c.train_loss


def test_fit_takes_options_and_reporters(subset, capsys):
    train_iter, test_iter = subset
    options = TrainOptions(num_epochs=1, lr=0.1, momentum=0.9)
    history = fit(small_lenet(), train_iter, test_iter, options, "cpu", reporters=[])
    assert len(history) == 1 and capsys.readouterr().out == ""  # no reporter, no output
    with pytest.raises(TypeError, match="options must be a TrainOptions"):
        fit(small_lenet(), train_iter, test_iter, {"num_epochs": 1, "lr": 0.1}, "cpu")


def test_printed_lines_outside_jupyter(subset, capsys):
    train_iter, test_iter = subset
    ck.train_ch6(small_lenet(), train_iter, test_iter, 2, 0.1, "cpu")
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"epoch 1/2: loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}, \d+\.\d examples/sec",
                        lines[0])
    assert lines[1].startswith("epoch 2/2: loss ")
    # d2l's closing line, on one line.
    assert re.fullmatch(r"loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}, \d+\.\d examples/sec on cpu", lines[2])
    assert "40/40" in captured.err  # the progress bar, on stderr


def test_nan_loss_stops_with_epoch_batch_and_advice(subset):
    train_iter, test_iter = subset
    batches = len(train_iter)
    net = nn.Sequential(Tripwire(at=batches + 5, action="nan"), small_lenet())
    with pytest.raises(TrainingDiverged) as info:
        ck.train_ch6(net, train_iter, test_iter, 3, 0.1, "cpu", verbose=False)
    message = str(info.value)
    assert "epoch 2, batch 5" in message
    assert "smaller learning rate" in message and "lr=0.01" in message
    assert len(info.value.history) == 1  # the finished epoch survives
    assert math.isfinite(info.value.history.train_loss[0])


def test_ctrl_c_returns_the_finished_epochs(subset, tmp_path, capsys):
    train_iter, test_iter = subset
    batches = len(train_iter)
    net = nn.Sequential(Tripwire(at=2 * batches + 3, action="interrupt"), small_lenet())
    history = ck.train_ch6(net, train_iter, test_iter, 5, 0.1, "cpu", checkpoint=tmp_path / "run.pt")
    assert history.interrupted and len(history) == 2
    assert "Interrupted in epoch 3, batch 3" in capsys.readouterr().out
    saved = ck.load_checkpoint(tmp_path / "run.pt", nn.Sequential(Tripwire(0, "nan"), small_lenet()))
    assert saved.train_loss == history.train_loss  # the checkpoint holds both finished epochs


def test_an_empty_training_set_is_refused(subset):
    _, test_iter = subset
    with pytest.raises(ValueError, match="yields no batch"):
        ck.train_ch6(small_lenet(), [], test_iter, 1, 0.1, "cpu", verbose=False)


def test_kaiming_init_keeps_relu_activations_from_shrinking():
    torch.manual_seed(0)
    width, depth = 256, 12
    x = torch.randn(512, width)

    def last_std(method):
        net = nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(width, width), nn.ReLU())])
        init_weights(net, method=method)
        with torch.no_grad():
            return net(x).std().item()

    # He init keeps E[h^2] constant through ReLU; Xavier halves it per layer (2**-12 over 12 layers).
    assert 0.5 < last_std("kaiming") < 2.0
    assert last_std("xavier") < 0.1
    with pytest.raises(ValueError, match="init must be one of"):
        init_weights(nn.Linear(2, 2), method="orthogonal")


def test_xavier_init_reaches_lazy_layers():
    net = nn.Sequential(nn.LazyConv2d(6, 5), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    with pytest.raises(ValueError, match="lazy layers"):
        init_weights(net)
    init_weights(net, torch.zeros(2, 1, 28, 28))
    for layer, fan_in, fan_out in [(net[0], 1 * 25, 6 * 25), (net[3], 6 * 24 * 24, 10)]:
        bound = math.sqrt(6 / (fan_in + fan_out))
        # PyTorch's default init would give a different spread: 1/sqrt(fan_in).
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.9 * bound


def test_lazy_net_trains(subset):
    train_iter, test_iter = subset
    net = nn.Sequential(nn.LazyConv2d(8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.LazyLinear(10))
    history = ck.train_ch6(net, train_iter, test_iter, 1, 0.1, "cpu", verbose=False)
    assert history.test_acc[0] > 0.3


@pytest.mark.parametrize("options", [dict(precision="bf16"), dict(channels_last=True), dict(optimizer="adam", schedule="cosine"),
                                     dict(optimizer="adamw", weight_decay=1e-4, schedule="onecycle"),
                                     dict(init="kaiming")])
def test_training_options_run(fashion_root, options):
    # Fresh loaders: a shared one would shuffle differently depending on the tests that ran before.
    train_iter, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=2000, n_test=1000)
    lr = 2e-3 if options.get("optimizer", "sgd") != "sgd" else 0.05
    ck.seed_everything(0)
    history = ck.train_ch6(small_lenet(), train_iter, test_iter, 3, lr, "cpu", momentum=0.9, verbose=False, **options)
    assert len(history) == 3 and history.test_acc[-1] > 0.5, history
    assert history.precision == options.get("precision", "fp32")


class FirstWeights(ck.reporters.Reporter):
    """Remembers the first layer's weights as training starts (after any re-initialisation)."""

    def __init__(self, net):
        self.net = net

    def on_start(self, run):
        self.weight = self.net[0].weight.detach().clone()


@pytest.mark.parametrize("init, kept", [(None, True), ("xavier", False), ("kaiming", False)])
def test_init_none_keeps_the_models_own_weights(subset, init, kept):
    train_iter, test_iter = subset
    net = small_lenet()
    built = net[0].weight.detach().clone()
    seen = FirstWeights(net)
    fit(net, train_iter, test_iter, TrainOptions(1, 0.01, init=init), "cpu", reporters=[seen])
    assert torch.equal(seen.weight, built) is kept


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_epochs=0), "num_epochs must be a positive int"),
        (dict(num_epochs=True), "num_epochs must be a positive int"),
        (dict(lr=-0.1), "lr must be a positive number"),
        (dict(lr=float("nan")), "lr must be a positive number"),
        (dict(momentum=-1), "momentum must be a number >= 0"),
        (dict(weight_decay=float("nan")), "weight_decay must be a number >= 0"),
        (dict(precision="fp8"), "precision must be None, 'bf16', 'fp16' or 'auto'"),
        (dict(channels_last="yes"), "channels_last must be True, False or 'auto'"),
        (dict(optimizer="rmsprop"), "optimizer must be one of sgd, adam, adamw"),
        (dict(schedule="exponential"), "schedule must be None or one of step, cosine, onecycle"),
        (dict(init="he"), "init must be one of xavier, kaiming or None, got 'he'"),
        (dict(seed=-1), "seed must be None or an int >= 0"),
        (dict(resume=True), "resume=True needs checkpoint=PATH"),
    ],
)
def test_bad_options_are_explained_before_training(kwargs, match):
    arguments = dict(num_epochs=1, lr=0.1) | kwargs
    with pytest.raises(ValueError, match=re.escape(match)):
        TrainOptions(**arguments)
    # train_ch6 validates the same way, before touching the data
    with pytest.raises(ValueError, match=re.escape(match)):
        ck.train_ch6(small_lenet(), None, None, device="cpu", verbose=False, **arguments)


def test_several_problems_are_reported_together():
    with pytest.raises(ValueError, match="num_epochs must be .*; lr must be"):
        TrainOptions(num_epochs=0, lr=0)


def test_options_replace_and_to_dict():
    options = TrainOptions(3, 0.1, momentum=0.9)
    assert options.replace(lr=0.5).lr == 0.5 and options.lr == 0.1
    with pytest.raises(ValueError, match="lr must be"):
        options.replace(lr=0)
    built = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    assert TrainOptions(1, 0.1, optimizer=built).to_dict()["optimizer"] == "SGD"


def dropout_lenet() -> nn.Sequential:
    return nn.Sequential(Tripwire(at=10**9, action="nan"), small_lenet(), nn.Dropout(0.3))


def test_resumed_run_ends_where_an_uninterrupted_one_would(fashion_root, tmp_path):
    def loaders():
        return ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=1000, n_test=500)

    options = dict(lr=0.05, device="cpu", momentum=0.9, schedule="cosine", verbose=False)
    ck.seed_everything(1)
    reference_net = dropout_lenet()
    reference = ck.train_ch6(reference_net, *loaders(), num_epochs=3, **options)

    ck.seed_everything(1)
    net = dropout_lenet()
    net[0].at, net[0].action = 10 + 4, "interrupt"  # Ctrl-C in epoch 2
    partial = ck.train_ch6(net, *loaders(), num_epochs=3, checkpoint=tmp_path / "run.pt", **options)
    assert partial.interrupted and len(partial) == 1

    resumed_net = dropout_lenet()  # a fresh process: new model, new loaders
    resumed = ck.train_ch6(resumed_net, *loaders(), num_epochs=3, checkpoint=tmp_path / "run.pt", resume=True,
                           **options)
    assert len(resumed) == 3 and not resumed.interrupted
    assert resumed.train_loss == reference.train_loss and resumed.test_acc == reference.test_acc
    for a, b in zip(reference_net.state_dict().values(), resumed_net.state_dict().values()):
        assert torch.equal(a, b)


def test_compiled_training_matches_eager(subset):
    train_iter, test_iter = subset

    def run(compile):
        torch.manual_seed(0)
        net = small_lenet()
        return net, ck.train_ch6(net, train_iter, test_iter, 2, 0.05, "cpu", compile=compile, verbose=False)

    (_, eager), (net, compiled) = run(False), run(True)
    # Same seed, same batches, same starting weights: the compiled kernels only round differently.
    # (With momentum the two runs drift apart faster, so this uses plain SGD.)
    # The rounding differences grow with every step, and fastest while the loss falls steeply, so
    # the runs are compared over the first epoch, where they still agree closely.
    assert compiled.train_loss[0] == pytest.approx(eager.train_loss[0], rel=0.01)
    assert compiled.train_acc[0] == pytest.approx(eager.train_acc[0], abs=0.02)
    assert compiled.train_loss[1] < compiled.train_loss[0]  # it learns, so equal losses mean something
    # The trained weights are the net's own (evaluation runs it eagerly): the accuracy is theirs.
    assert ck.evaluate_accuracy(net, test_iter) == compiled.test_acc[-1] > 0.2


def test_compile_without_a_compiler_is_explained(subset, monkeypatch):
    import coursekit.train

    monkeypatch.setattr(coursekit.train.shutil, "which", lambda name: None)
    train_iter, test_iter = subset
    with pytest.raises(RuntimeError, match="needs a C\\+\\+ compiler"):
        ck.train_ch6(small_lenet(), train_iter, test_iter, 1, 0.1, "cpu", compile=True, verbose=False)


def test_the_network_comes_back_in_the_default_layout(subset):
    train_iter, test_iter = subset
    net = small_lenet()
    ck.train_ch6(net, train_iter, test_iter, 1, 0.05, "cpu", channels_last=True, verbose=False)
    assert all(p.is_contiguous() for p in net.parameters())
    torch.nn.utils.parameters_to_vector(net.parameters())  # what pruning does; fails on channels_last weights
