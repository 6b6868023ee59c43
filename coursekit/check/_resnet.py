"""Exercise checks for chapter 07 ResNet."""

from __future__ import annotations

from torch import nn

from ._verdicts import _count, _unanswered, _verdict

__all__: list[str] = ["bottleneck_block_parameters", "resnet_stage_output_shape"]


def _bn_params(block: nn.Module) -> int:
    return sum(p.numel() for m in block.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())


def bottleneck_block_parameters(answer: int | None, in_channels: int = 256, width: int = 128,
                                stride: int = 2) -> bool:
    """Exercise 07.1: the parameters of ``Bottleneck(in_channels, width, stride)``, shortcut and BN included."""
    if _unanswered(answer, "an int, the number of parameters of the block"):
        return False
    from ..models import BasicBlock, Bottleneck

    block = Bottleneck(in_channels, width, stride)
    expected = _count(block)
    out_channels = width * Bottleneck.expansion
    shortcut = _count(block.shortcut)
    biases = width + width + out_channels  # one per output channel of the three convolutions
    projection = in_channels * out_channels + 2 * out_channels  # a 1x1 convolution and its BN
    if answer == expected:
        parts = f"{_count(block) - shortcut:,} in the three convolutions and their BN"
        if shortcut:
            parts += f", {shortcut:,} in the projection shortcut"
        return _verdict(True, f"Right: {expected:,} parameters ({parts}). A BasicBlock with {out_channels} channels "
                        f"would need {_count(BasicBlock(in_channels, out_channels, stride)):,}.")
    if shortcut and answer == expected - shortcut:
        return _verdict(False, f"Close: the block also has a projection shortcut, because its input has "
                        f"{in_channels} channels and its output {out_channels}"
                        + (f" at stride {stride}" if stride != 1 else "")
                        + ": a 1x1 convolution and a BN, to count as well.")
    if not shortcut and answer == expected + projection:
        return _verdict(False, f"Input and output both have {out_channels} channels and the stride is 1, so the "
                        "shortcut is the identity, with no parameters.")
    if answer == expected - _bn_params(block):
        return _verdict(False, "Close: you left out the batch norms, each with a scale and a shift per channel "
                        "(2 * channels parameters).")
    if answer == expected + biases:
        return _verdict(False, "The convolutions of a Bottleneck have no bias (bias=False): the BN right after "
                        "each one would cancel it. Leave the biases out.")
    if answer == _count(BasicBlock(in_channels, out_channels, stride)):
        return _verdict(False, f"That is a BasicBlock (two 3x3 convolutions on {out_channels} channels). The "
                        f"Bottleneck goes {in_channels} -> {width} (1x1) -> {width} (3x3) -> {out_channels} (1x1).")
    return _verdict(False, f"Not quite (you said {answer:,}). Add up the 1x1 ({in_channels} -> {width}), the 3x3 "
                    f"({width} -> {width}) and the 1x1 ({width} -> {out_channels}) convolutions without bias "
                    "(k*k*c_in*c_out each), 2 * channels for each BN, and the shortcut if the shapes change; or "
                    "build the block and use sum(p.numel() for p in block.parameters()).")


def resnet_stage_output_shape(answer: tuple | None, input_shape: tuple = (1, 256, 7, 7), num_channels: int = 512,
                              num_residuals: int = 2, first_block: bool = False) -> bool:
    """Exercise 07.2: the output shape of ``resnet_block(input_shape[1], num_channels, num_residuals,
    first_block)`` on an input of ``input_shape``."""
    if _unanswered(answer, "a tuple (N, C, H, W), the shape of the output"):
        return False
    import torch

    from ..models import resnet_block

    stage = resnet_block(input_shape[1], num_channels, num_residuals, first_block=first_block)
    with torch.device("meta"):
        expected = tuple(stage.to("meta")(torch.empty(input_shape)).shape)
    try:
        answer = tuple(int(a) for a in answer)
    except TypeError:
        return _verdict(False, f"Give a tuple of four ints (N, C, H, W), like {tuple(input_shape)}; you gave {answer!r}.")
    n, c, h, w = input_shape
    if answer == expected:
        how = ("the first block keeps the size (first_block=True)" if first_block else
               f"only the first block has stride 2, and a 3x3 convolution with padding 1 at stride 2 gives "
               f"(n - 1) // 2 + 1, so {h} -> {expected[2]}")
        return _verdict(True, f"Right: {expected}. The channels become {num_channels} and {how}.")
    if len(answer) != 4:
        return _verdict(False, f"Give all four dimensions (N, C, H, W); you gave {len(answer)}.")
    if answer[2:] == expected[2:] and answer[1] != expected[1]:
        return _verdict(False, f"The height and width are right; the stage outputs num_channels = {num_channels} "
                        "channels.")
    if answer[:2] == expected[:2] and not first_block and answer[2:] == (h // 2, w // 2) and (h % 2 or w % 2):
        return _verdict(False, "Almost: an odd side does not halve exactly. The 3x3 convolution with padding 1 "
                        "and stride 2 gives floor((n + 2 - 3) / 2) + 1 = (n - 1) // 2 + 1, which rounds up.")
    if answer[:2] == expected[:2] and not first_block and answer[2:] == (h, w):
        return _verdict(False, "The first block of a stage (first_block=False) has stride 2 and halves the height "
                        "and width.")
    if answer[:2] == expected[:2] and first_block and answer[2:] != (h, w):
        return _verdict(False, "With first_block=True no block has stride 2: the size stays the same (in d2l's "
                        "ResNet the max-pool before this stage has already halved it).")
    if answer[:2] == expected[:2] and num_residuals > 1 and answer[2] < expected[2]:
        return _verdict(False, "Only the first block of the stage halves the size; the other blocks keep it.")
    return _verdict(False, f"Not quite (you said {answer}). The channels become num_channels; the first block "
                    "halves height and width with a stride-2 3x3 convolution (unless first_block=True) and "
                    "the others keep them. Or run torch.zeros(input_shape) through the stage and look.")
