"""coursekit.History: speed derived from seconds and examples, lines, plots, and a strict round trip."""

import pytest

from coursekit import History


def two_epochs() -> History:
    # Two epochs of 200 images, trained in 2 s and 1 s (evaluation adds to the epoch's wall time).
    return History(train_loss=[1.0, 0.5], train_acc=[0.6, 0.8], test_acc=[0.55, 0.75], train_seconds=[2.0, 1.0],
                   examples=[200, 200], seconds=[2.5, 1.2], device="cpu", precision="bf16")


def test_speed_is_derived_from_examples_and_training_seconds():
    history = two_epochs()
    assert history.examples_per_sec == [100.0, 200.0]
    # Overall speed is all images over all training time, not the mean of the speeds (150).
    assert history.speed() == pytest.approx(400 / 3)
    assert history.final_line() == "loss 0.500, train acc 0.800, test acc 0.750, 133.3 examples/sec on cpu"
    assert history.epoch_line(0, 10) == ("epoch 1/10: loss 1.000, train acc 0.600, test acc 0.550, "
                                         "100.0 examples/sec")
    assert History().final_line() == "no finished epoch"


def test_append_records_one_epoch():
    history = History()
    history.append(train_loss=2.0, train_acc=0.2, test_acc=0.3, train_seconds=4.0, examples=100, seconds=5.0)
    assert len(history) == 1 and history.examples_per_sec == [25.0]


def test_round_trip_and_refusal_of_other_formats():
    history = two_epochs()
    assert History.from_dict(history.to_dict()) == history
    older = {"train_loss": [1.0], "train_acc": [0.5], "test_acc": [0.5], "examples_per_sec": [10.0]}
    with pytest.raises(ValueError, match="missing train_seconds, examples"):
        History.from_dict(older)
    with pytest.raises(ValueError, match="not a coursekit History"):
        History.from_dict([1, 2])


def test_plot_has_three_curves_on_whole_epochs():
    ax = two_epochs().plot(title="run")
    assert [line.get_label() for line in ax.get_lines()] == ["train loss", "train acc", "test acc"]
    assert all(float(tick).is_integer() for tick in ax.get_xticks())
    assert ax.get_title() == "run"
