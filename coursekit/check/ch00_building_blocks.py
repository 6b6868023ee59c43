"""Exercise checks for notebook 00, the building blocks of a CNN."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..inspect import count_params
from .code import Mistake, judge_code, same_tensor
from .exercise import Exercise
from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def conv2d_output_shape(answer: Any, input_shape: tuple = (20, 16, 50, 100), out_channels: int = 33,
                        kernel_size: tuple = (3, 5), stride: tuple = (2, 1), padding: tuple = (4, 2),
                        dilation: tuple = (3, 1)) -> Verdict:
    """Exercise 00.1: the output shape of ``nn.Conv2d`` with these settings on an input of ``input_shape``."""
    conv = nn.Conv2d(input_shape[1], out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation)
    # The layer turns int settings into (height, width) pairs; read them back so both forms work.
    k, s, p, d = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    expected = output_shape(conv, input_shape)

    def with_sides(pad: tuple, dil: tuple) -> tuple[int, ...]:
        """The expected shape, with the height and width computed from these paddings and dilations."""
        return expected[:2] + tuple((input_shape[2 + i] + 2 * pad[i] - dil[i] * (k[i] - 1) - 1) // s[i] + 1
                                    for i in range(2))

    return judge(
        answer, "shape", expected,
        what="a tuple (N, C, H, W), the shape of the output",
        example=str(tuple(input_shape)),
        right=f"{expected}. Each side is floor((n + 2p - d(k - 1) - 1) / s) + 1; the batch size is unchanged "
              "and the channels are the layer's out_channels.",
        slips=[
            Slip(lambda a: a[2:] == expected[2:] and a[:2] != expected[:2],
                 "The height and width are right; the batch size stays the same and the channel count becomes "
                 "out_channels."),
            Slip(with_sides(p, (1, 1)),
                 "Close, but you left out the dilation: a k-wide kernel with dilation d spans d(k - 1) + 1 pixels."),
            Slip(with_sides((0, 0), d),
                 "Close, but you left out the padding: it adds p pixels on both sides, 2p in all."),
            Slip(lambda a: a[2:] == expected[:1:-1],
                 "Height and width are swapped: the first number of each pair is the height."),
        ],
        otherwise="Per side: floor((n + 2p - d(k - 1) - 1) / s) + 1, with the first number of each pair for the "
                  "height and the second for the width.",
    )


def separable_parameters(answer: Any, channels: int = 64) -> Verdict:
    """Exercise 00.2: parameters of a depthwise 3x3 convolution followed by a 1x1 one, biases included."""
    depthwise, pointwise = nn.Conv2d(channels, channels, 3, groups=channels), nn.Conv2d(channels, channels, 1)
    n_depthwise, n_pointwise = count_params(depthwise).total, count_params(pointwise).total
    expected, standard = n_depthwise + n_pointwise, count_params(nn.Conv2d(channels, channels, 3)).total
    return judge(
        answer, "int", expected,
        what="an int, the parameters of the depthwise and the 1x1 convolution together",
        right=f"{n_depthwise:,} for the depthwise convolution (one 3x3 filter per channel) plus {n_pointwise:,} for "
              f"the 1x1, {expected:,} in all against {standard:,} for nn.Conv2d({channels}, {channels}, 3): "
              f"{expected / standard:.1%} of it.",
        slips=[
            Slip(standard, "That is the ordinary 3x3 convolution; with groups=C each output channel sees one input "
                 "channel only."),
            Slip(expected - 2 * channels, "Close: add the biases, one per output channel of each convolution."),
            Slip(n_depthwise, "That is the depthwise convolution alone; add the 1x1 convolution after it."),
            Slip(n_pointwise, "That is the 1x1 convolution alone; add the depthwise one before it."),
        ],
        otherwise="A convolution has (k*k*c_in/groups + 1)*c_out parameters; add the two.",
    )


def lstm_parameters(answer: Any, input_size: int = 10, hidden_size: int = 20) -> Verdict:
    """Exercise 00.3: parameters of a one-layer ``nn.LSTM(input_size, hidden_size)``."""
    expected = count_params(nn.LSTM(input_size, hidden_size)).total
    gate = hidden_size * (input_size + hidden_size) + 2 * hidden_size  # one gate: two weight matrices, two biases
    return judge(
        answer, "int", expected,
        what="an int, the parameters of the LSTM",
        right=f"4 gates x {gate:,} = {expected:,}: each gate has input weights ({hidden_size}x{input_size}), hidden "
              f"weights ({hidden_size}x{hidden_size}) and two bias vectors of {hidden_size} in PyTorch.",
        slips=[
            Slip(expected - 4 * hidden_size, "Close: PyTorch gives every gate two bias vectors (b_ih and b_hh), "
                 "not one."),
            Slip(gate, "That is one gate; an LSTM has four (input, forget, candidate cell, output)."),
            Slip(3 * gate, "That is a GRU's count, three gates; an LSTM has four."),
            Slip(expected - 8 * hidden_size, "Close: add the biases, two vectors per gate."),
        ],
        otherwise="Each of the four gates has a (hidden x input) and a (hidden x hidden) weight matrix and two "
                  "bias vectors of length hidden.",
    )


def steepness(w: torch.Tensor) -> torch.Tensor:
    """The valley of the optimizer comparison, f(x1, x2) = 0.1 x1^2 + 2 x2^2."""
    return 0.1 * w[0] ** 2 + 2 * w[1] ** 2


def curvatures() -> tuple[float, float]:
    """The steepest and the shallowest curvature of :func:`steepness`: the eigenvalues of its Hessian."""
    values = torch.linalg.eigvalsh(torch.autograd.functional.hessian(steepness, torch.zeros(2)))
    return values.max().item(), values.min().item()


def largest_sgd_learning_rate(answer: Any) -> Verdict:
    """Exercise 00.4: the learning rate from which plain SGD stops converging on :func:`steepness`."""
    steep, shallow = curvatures()
    expected = 2 / steep
    return judge(
        answer, "float", expected,
        what="a float, the learning rate at which SGD stops converging",
        right=f"{expected:g}. Along x2 the curvature is {steep:g}, so a step multiplies x2 by (1 - {steep:g} lr): "
              f"at lr = {expected:g} the factor is -1 and x2 bounces between its start and its negative forever, "
              "above it the bounces grow. The shallow direction would allow a far larger rate, but the steepest one decides.",
        slips=[
            Slip(1 / steep, f"At lr = {1 / steep:g} SGD reaches the bottom of the steep direction in one step; it "
                 "still converges above that, with a zigzag, until the factor (1 - curvature lr) reaches -1."),
            Slip(2 / shallow, "That is the limit of the shallow direction; the steep direction diverges long "
                 "before."),
            Slip(0.4, "0.4 is the rate used above, which still converges; find where the zigzag stops shrinking."),
        ],
        otherwise="A gradient step on c x^2 / 2 multiplies x by (1 - c lr); it converges while |1 - c lr| < 1. "
                  "Find c for the steep direction of f.",
    )


# --- 00.6: cross-correlation with padding and stride, from scratch ------------------------------


def corr2d_reference(X: torch.Tensor, K: torch.Tensor, padding: int = 0, stride: int = 1) -> torch.Tensor:
    """2-D cross-correlation of ``X`` (h, w) with ``K`` (kh, kw): zero padding on every side, then the kernel
    slides by ``stride``; the output is (floor((h + 2p - kh) / s) + 1, floor((w + 2p - kw) / s) + 1)."""
    X = F.pad(X, (padding, padding, padding, padding))
    kh, kw = K.shape
    rows = range(0, X.shape[0] - kh + 1, stride)
    cols = range(0, X.shape[1] - kw + 1, stride)
    return torch.stack([torch.stack([(X[i:i + kh, j:j + kw] * K).sum() for j in cols]) for i in rows])


def _corr2d_trials() -> list[tuple]:
    g = torch.Generator().manual_seed(0)
    sizes = [(6, 7, 3, 2, 1, 1), (8, 8, 3, 3, 0, 2), (7, 9, 2, 3, 2, 3), (5, 5, 5, 5, 1, 1)]
    return [(torch.randn(h, w, generator=g), torch.randn(kh, kw, generator=g), p, s) for h, w, kh, kw, p, s in sizes]


def _matches(got: Any, X: torch.Tensor, K: torch.Tensor, padding: int, stride: int) -> bool:
    want = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    return same_tensor(got, want, ()) is None


def check_corr2d(answer: Any) -> Verdict:
    """Exercise 00.6: the learner's ``corr2d(X, K, padding, stride)`` against ``F.conv2d``."""
    return judge_code(
        answer, corr2d_reference, _corr2d_trials(),
        what="your function corr2d",
        compare=same_tensor,
        right="it pads X with zeros, slides K by the stride and sums the products, exactly as F.conv2d does.",
        mistakes=[
            Mistake(lambda a: _matches(a.got, a.args[0], a.args[1].flip(0, 1), a.args[2], a.args[3]),
                    "You flipped the kernel: that is the convolution of signal processing. Deep learning's "
                    "convolution layers compute cross-correlation: use K as it is."),
            Mistake(lambda a: _matches(a.got, a.args[0], a.args[1], 0, a.args[3]),
                    "Right without padding: pad X with `padding` zeros on every side first (F.pad, or a bigger "
                    "zero tensor)."),
            Mistake(lambda a: _matches(a.got, a.args[0], a.args[1], a.args[2], 1),
                    "Right for stride 1: move the window by `stride` rows and columns, range(0, n - k + 1, stride)."),
            Mistake(lambda a: a.got.shape != a.expected.shape and tuple(a.got.shape) == tuple(a.expected.shape)[::-1],
                    "Height and width are swapped: the first index of the output is the row."),
            Mistake(lambda a: tuple(a.got.shape) == tuple(d + 1 for d in a.expected.shape)
                    or tuple(a.got.shape) == tuple(d - 1 for d in a.expected.shape),
                    "Off by one in the output size: the window fits (n + 2p - k) // s + 1 times along a side."),
        ],
        otherwise="Each output Y[i, j] is (Xp[i*s:i*s + kh, j*s:j*s + kw] * K).sum() on the padded Xp.",
    )


EX1 = Exercise(
    "00.1", "Output shape of a strided, padded, dilated convolution", "shape",
    hint="Work height and width separately with floor((n + 2p - d(k - 1) - 1) / s) + 1, taking the first number "
         "of each pair for the height. The batch size stays, the channels become out_channels.",
    check=conv2d_output_shape,
    answer=lambda: output_shape(nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1)),
                                (20, 16, 50, 100)),
)
EX2 = Exercise(
    "00.2", "Parameters of a depthwise-separable convolution", "number",
    hint="With groups=C every output channel of the depthwise convolution sees one input channel: k*k weights and "
         "a bias each. The 1x1 convolution is an ordinary one. Add the two.",
    check=separable_parameters,
    answer=lambda: count_params(nn.Conv2d(64, 64, 3, groups=64)).total + count_params(nn.Conv2d(64, 64, 1)).total,
)
EX3 = Exercise(
    "00.3", "Parameters of a one-layer LSTM", "number",
    hint="Count one gate: a weight matrix for the input, one for the hidden state, and PyTorch's two bias vectors. "
         "Then multiply by the number of gates.",
    check=lstm_parameters,
    answer=lambda: count_params(nn.LSTM(10, 20)).total,
)
EX4 = Exercise(
    "00.4", "The largest learning rate plain SGD survives", "number",
    hint="Along x2, f is 2 x2^2 and its gradient 4 x2, so one step multiplies x2 by a factor that depends on the "
         "learning rate. When does that factor stop shrinking x2?",
    check=largest_sgd_learning_rate,
    answer=lambda: 2 / curvatures()[0],
)
EX5 = Exercise(
    "00.5", "Training without zero_grad", "open question",
    hint="loss.backward() adds the new gradient to .grad. What is in .grad at step 10 if nobody clears it?",
    outcome="each step uses the sum of all gradients so far, so the steps keep growing: expect the loss to "
            "stop decreasing smoothly, to oscillate, or to blow up.",
    discussion="PyTorch accumulates gradients (useful to simulate a larger batch over several small ones). "
               "Without zero_grad the step at iteration t follows the sum of t gradients, like momentum without "
               "decay, so the effective learning rate grows with every step until training becomes unstable.",
)
EX6 = Exercise(
    "00.6", "Write a cross-correlation with padding and stride", "code",
    hint="Pad X with zeros first; then loop over the top-left corners of the windows, which are stride apart, "
         "and sum the elementwise product of each window with K.",
    check=check_corr2d,
    answer=lambda: corr2d_reference,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
