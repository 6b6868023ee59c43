"""Exercise checks for chapter 08 DenseNet."""

from __future__ import annotations

from ._verdicts import _count, _unanswered, _verdict

__all__: list[str] = ["dense_transition_channels", "dense_block_parameters"]


def _positive_ints(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")


def dense_transition_channels(answer: int | None, in_channels: int = 24, num_convs: int = 16,
                              growth_rate: int = 12) -> bool:
    """Exercise 08.1: the channels coming out of ``DenseBlock(num_convs, in_channels, growth_rate)``
    followed by a transition layer that halves them (the defaults: DenseNet-BC-100's first block)."""
    if _unanswered(answer, "an int, the channels after the dense block and its transition layer"):
        return False
    _positive_ints(in_channels=in_channels, num_convs=num_convs, growth_rate=growth_rate)
    import torch

    from ..models import DenseBlock, transition_block

    with torch.device("meta"):  # shapes only, nothing allocated or computed
        block = DenseBlock(num_convs, in_channels, growth_rate).eval()
        dense = block(torch.empty(1, in_channels, 2, 2)).shape[1]
        expected = transition_block(dense, dense // 2).eval()(torch.empty(1, dense, 2, 2)).shape[1]
    new = num_convs * growth_rate
    if answer == expected:
        return _verdict(True, f"Right: the block outputs {in_channels} + {num_convs} * {growth_rate} = {dense} "
                        f"channels, and the transition's 1x1 convolution halves them to {expected}.")
    if answer == dense:
        return _verdict(False, f"{dense} is what the dense block outputs; the transition layer's 1x1 convolution "
                        "then halves the channels.")
    if answer in (new, new // 2):
        return _verdict(False, "You counted only the new channels: a dense block keeps its input and concatenates "
                        f"the {num_convs} layers' outputs to it, so the {in_channels} input channels are still there.")
    if answer == in_channels + new // 2:
        return _verdict(False, "The transition halves all the channels, the block's input included, not only the "
                        "new ones.")
    off_by_one = in_channels + (num_convs - 1) * growth_rate
    if answer in (off_by_one, off_by_one // 2):
        return _verdict(False, f"One layer short: each of the {num_convs} layers adds {growth_rate} channels "
                        "(the first layer's input is the block's input, and its output is new).")
    if answer in (in_channels + growth_rate, (in_channels + growth_rate) // 2):
        return _verdict(False, f"Every layer adds {growth_rate} channels, not just the block as a whole: the "
                        f"growth rate is per layer, so the block adds {num_convs} * {growth_rate}.")
    if answer == 2 * dense:
        return _verdict(False, "The transition layer reduces the channels (1x1 convolution to half as many); it "
                        "halves the height and width too.")
    return _verdict(False, f"Not quite (you said {answer}). A dense block outputs in_channels + num_convs * "
                    "growth_rate channels; the transition layer keeps half of them.")


def dense_block_parameters(answer: int | None, num_convs: int = 3, in_channels: int = 16,
                           growth_rate: int = 8) -> bool:
    """Exercise 08.2: the parameters of d2l's ``DenseBlock(num_convs, in_channels, growth_rate)``
    (each layer: BatchNorm, ReLU, 3x3 convolution with bias)."""
    if _unanswered(answer, "an int, the number of parameters of the dense block"):
        return False
    _positive_ints(in_channels=in_channels, num_convs=num_convs, growth_rate=growth_rate)
    from ..models import DenseBlock

    expected = _count(DenseBlock(num_convs, in_channels, growth_rate))
    inputs = [in_channels + i * growth_rate for i in range(num_convs)]
    bn = sum(2 * c for c in inputs)

    def layers(cs, bn_per_channel=2, bias=1):
        return sum(bn_per_channel * c + (9 * c + bias) * growth_rate for c in cs)

    if answer == expected:
        return _verdict(True, f"Right: {expected:,}. Layer i sees {', '.join(map(str, inputs))} channels in turn; "
                        f"each has a BatchNorm (2 per input channel: {bn:,} in all) and a 3x3 convolution to "
                        f"{growth_rate} channels, (9 * c_i + 1) * {growth_rate}. The concatenation itself has "
                        "no parameters.")
    if answer == expected - bn:
        return _verdict(False, "You counted the convolutions only: every layer starts with a BatchNorm, which has "
                        "a scale and a shift per input channel.")
    if answer == expected + bn:
        return _verdict(False, "The BatchNorm's running mean and variance are buffers, not parameters: count "
                        "2 per channel (scale and shift), not 4.")
    if answer == expected - num_convs * growth_rate:
        return _verdict(False, "Close: add the convolutions' biases, one per output channel of each layer.")
    if answer == layers([in_channels] * num_convs):
        return _verdict(False, f"Each layer sees more channels than the one before: layer i's input is the block's "
                        f"input plus the i earlier outputs, {in_channels} + i * {growth_rate}.")
    if answer == layers([in_channels + (i + 1) * growth_rate for i in range(num_convs)]):
        return _verdict(False, f"One step ahead: the first layer sees only the block's {in_channels} input "
                        "channels, the second one adds the first layer's output, and so on.")
    return _verdict(False, f"Not quite (you said {answer:,}). Layer i (from 0) sees c_i = in_channels + i * "
                    "growth_rate channels and has 2 * c_i BatchNorm parameters plus (9 * c_i + 1) * growth_rate "
                    "for its convolution; add the layers up.")
