"""coursekit.fast_path: the fastest arithmetic by measurement, with a fake clock; ties go to fp32; cached."""

import json

import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit import fast_path
from coursekit.fast_path import MARGIN, FastPath, check_precision, choose_fast_path, label
from tests.helpers import small_lenet


class FakeClock:
    """A clock whose steps take the seconds given per (precision, layout) of the step being timed.

    It reads the arithmetic off the step itself: autocast's dtype and the input's memory layout.
    """

    def __init__(self, seconds: dict[str, float]):
        self.seconds, self.now, self.calls = seconds, 0.0, 0

    def __call__(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:  # the end of a step
            self.now += self.seconds[self.current]
        return self.now


@pytest.fixture
def probe(monkeypatch, tmp_path):
    """choose_fast_path with a fake step time per label and the cache in a temporary folder, on a quiet machine."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fast_path, "machine_is_busy", lambda: False)

    def run(seconds, net=None, **kwargs):
        clock = FakeClock(seconds)
        real = fast_path.time_step

        def step(net, X, y, precision, channels_last, steps, timer):
            clock.current = label(precision, channels_last)
            return real(net, X, y, precision, channels_last, steps, timer)

        monkeypatch.setattr(fast_path, "time_step", step)
        X, y = torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,))
        return choose_fast_path(net or small_lenet(), X, y, timer=clock, **kwargs), clock

    return run


def test_the_fastest_combination_wins(probe):
    chosen, _ = probe({"fp32": 1.0, "fp32 + channels_last": 0.9, "bf16": 0.5, "bf16 + channels_last": 0.4})
    assert (chosen.precision, chosen.channels_last) == ("bf16", True)
    assert chosen.speedup == pytest.approx(2.5) and not chosen.cached
    assert chosen.describe() == "bf16 + channels_last: 2.50x the speed of fp32 in the default layout here (measured)"


def test_a_reduced_precision_must_be_clearly_faster(probe):
    # bf16 is 10% faster than the best fp32 layout: not enough to pay for its rounding.
    chosen, _ = probe({"fp32": 1.0, "fp32 + channels_last": 0.8, "bf16": 0.9, "bf16 + channels_last": 0.8 / 1.1})
    assert (chosen.precision, chosen.channels_last) == (None, True)
    assert "short of the 1.15x" in chosen.describe()
    chosen, _ = probe({"fp32": 1.0, "fp32 + channels_last": 1.0, "bf16": 1 / (MARGIN + 0.01),
                       "bf16 + channels_last": 1.0}, cache=False)
    assert chosen.precision == "bf16"


def test_ties_go_to_fp32_in_the_default_layout(probe):
    chosen, _ = probe(dict.fromkeys(["fp32", "fp32 + channels_last", "bf16", "bf16 + channels_last"], 1.0))
    assert (chosen.precision, chosen.channels_last, chosen.speedup) == (None, False, 1.0)


def test_a_fixed_setting_is_kept(probe):
    chosen, _ = probe({"bf16": 1.0, "bf16 + channels_last": 0.5}, precision="bf16")
    assert (chosen.precision, chosen.channels_last) == ("bf16", True)
    chosen, _ = probe({"fp32": 1.0, "bf16": 0.1}, channels_last=False)
    assert set(chosen.timings) == {"fp32", "bf16"} and chosen.precision == "bf16"


def test_the_decision_is_cached_per_device_torch_model_and_shape(probe, monkeypatch, tmp_path):
    seconds = {"fp32": 1.0, "fp32 + channels_last": 1.0, "bf16": 0.5, "bf16 + channels_last": 0.5}
    first, clock = probe(seconds)
    again, clock_again = probe(seconds)
    assert again.cached and clock_again.calls == 0  # nothing measured the second time
    assert (again.precision, again.speedup) == (first.precision, first.speedup)
    assert "cached" in again.describe()
    cache = json.loads((tmp_path / "coursekit" / "fast_path.json").read_text())
    (key,) = cache
    assert f"torch {torch.__version__}" in key and "input (4, 1, 28, 28)" in key
    # Another model, another PyTorch, another device: measured again.
    assert not probe(seconds, net=nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))[0].cached
    monkeypatch.setattr(torch, "__version__", "99.0")
    assert not probe(seconds)[0].cached
    monkeypatch.setattr(fast_path, "device_name", lambda device: "another CPU")
    assert not probe(seconds)[0].cached
    assert len(json.loads((tmp_path / "coursekit" / "fast_path.json").read_text())) == 4


def test_a_damaged_cache_is_measured_again(probe, tmp_path):
    (tmp_path / "coursekit").mkdir()
    (tmp_path / "coursekit" / "fast_path.json").write_text("{not json")
    chosen, clock = probe({"fp32": 1.0, "fp32 + channels_last": 1.0, "bf16": 1.0, "bf16 + channels_last": 1.0})
    assert not chosen.cached and clock.calls > 0


def test_the_measured_network_is_left_alone():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(10))
    net(torch.rand(2, 1, 8, 8))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    choose_fast_path(net, torch.rand(8, 1, 8, 8), torch.randint(0, 10, (8,)), cache=False)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # BatchNorm statistics too
    assert all(p.grad is None for p in net.parameters())


def test_fit_uses_the_choice_and_keeps_it(fashion_root, monkeypatch, capsys):
    chosen = FastPath("bf16", True, 1.7, {"fp32": 1.0, "bf16 + channels_last": 1 / 1.7})
    monkeypatch.setattr(ck.train, "choose_fast_path", lambda *args, **kwargs: chosen)
    train_iter, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=200, n_test=100)
    options = ck.TrainOptions(1, 0.05, precision="auto", channels_last="auto")
    history = ck.fit(small_lenet(), train_iter, test_iter, options, "cpu", reporters=ck.reporters.terminal_reporters())
    assert (history.precision, history.channels_last) == ("bf16", True)
    assert history.fast_path == chosen.to_dict()
    assert capsys.readouterr().out.splitlines()[0] == chosen.describe()


def test_auto_measures_without_changing_the_run(fashion_root):
    """A run whose arithmetic is chosen by the probe equals the run that chose it explicitly."""
    def run(**choice):
        train_iter, test_iter = ck.load_data_fashion_mnist(100, root=fashion_root, device="cpu", n_train=300,
                                                           n_test=100)
        ck.seed_everything(0)
        return ck.fit(small_lenet(), train_iter, test_iter, ck.TrainOptions(1, 0.05, **choice), "cpu", reporters=[])

    auto = run(precision="auto", channels_last="auto")
    explicit = run(precision={"fp32": None}.get(auto.precision, auto.precision), channels_last=auto.channels_last)
    assert auto.train_loss == explicit.train_loss and auto.test_acc == explicit.test_acc


@pytest.mark.parametrize("precision, device, message", [
    ("fp16", "cpu", "fp16 training on a CPU"),
    ("bf16", "mps", "only fp32 is supported on mps"),
])
def test_a_precision_the_device_cannot_run_is_refused(precision, device, message):
    with pytest.raises(ValueError, match=message):
        check_precision(precision, torch.device(device))


def test_bf16_on_an_old_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    with pytest.raises(ValueError, match="no bfloat16"):
        check_precision("bf16", torch.device("cuda"))
    check_precision("fp16", torch.device("cuda"))  # fine


def test_a_measurement_on_a_busy_machine_is_used_once_not_cached(probe, monkeypatch, tmp_path):
    seconds = {"fp32": 1.0, "fp32 + channels_last": 1.0, "bf16": 0.5, "bf16 + channels_last": 0.5}
    monkeypatch.setattr(fast_path, "machine_is_busy", lambda: True)
    busy, _ = probe(seconds)
    assert busy.busy and busy.precision == "bf16"  # the measurement is still used for this run
    assert "measured while the machine was busy, so not cached" in busy.describe()
    assert not (tmp_path / "coursekit" / "fast_path.json").exists()
    monkeypatch.setattr(fast_path, "machine_is_busy", lambda: False)
    quiet, _ = probe(seconds)
    assert not quiet.cached and not quiet.busy and (tmp_path / "coursekit" / "fast_path.json").exists()
    assert probe(seconds)[0].cached


@pytest.mark.parametrize("load, cores, busy", [((1.9, 2.0, 2.0), 2, False), ((2.4, 1.0, 1.0), 2, False),
                                               ((3.1, 2.0, 2.0), 2, True), ((9.0, 9.0, 9.0), 16, False)])
def test_busy_means_more_load_than_this_process_makes(monkeypatch, load, cores, busy):
    monkeypatch.setattr(fast_path.os, "getloadavg", lambda: load)
    monkeypatch.setattr(fast_path.os, "cpu_count", lambda: cores)
    assert fast_path.machine_is_busy() is busy
