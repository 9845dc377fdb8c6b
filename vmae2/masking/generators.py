"""Mask generators of VideoMAE V2 (convention: 1 / True = masked).

Each generator is a small callable on a token grid ``(t, h, w)`` (``t = T / tubelet``,
``h = H / p``, ``w = W / p``) that returns a bool tensor of shape ``(t * h * w,)`` in ``(t, h, w)``
order, True where the token is masked:

* :class:`TubeMaskGenerator` (encoder, VideoMAE): ``int(ratio * h * w)`` positions per clip,
  the same in every frame;
* :class:`RunningCellMaskGenerator` (decoder, VideoMAE V2): a 2x2 cell pattern that shifts by one
  every time step, so the decoder sees every position of a cell over 4 steps;
* :class:`RandomMaskGenerator` (per token) and :class:`FrameMaskGenerator` (whole time steps),
  for the paper's ablations.

Randomness comes from an optional ``torch.Generator`` (reproducible); without one the global torch
RNG is used, which MMEngine seeds per data-loader worker.
"""
from typing import Optional, Sequence

import torch

from vmae2.registry import MASK_GENERATORS

__all__ = [
    'BaseMaskGenerator', 'TubeMaskGenerator', 'RunningCellMaskGenerator',
    'RandomMaskGenerator', 'FrameMaskGenerator', 'build_mask_generator'
]


class BaseMaskGenerator:
    """Holds the grid and the ratio; subclasses implement :meth:`generate`.

    Args:
        input_size (Sequence[int]): Token grid ``(t, h, w)``.
        ratio (float): Fraction of tokens to mask, in ``[0, 1)``.
    """

    def __init__(self, input_size: Sequence[int], ratio: float):
        if len(input_size) != 3:
            raise ValueError(f'input_size must be the token grid (t, h, w), got {input_size}')
        if not 0 <= ratio < 1:
            raise ValueError(f'mask ratio must be in [0, 1), got {ratio}')
        self.input_size = tuple(int(s) for s in input_size)
        self.ratio = ratio

    @property
    def num_tokens(self) -> int:
        t, h, w = self.input_size
        return t * h * w

    @property
    def num_masked(self) -> int:
        """Masked tokens per clip (always the same, so batches stack)."""
        raise NotImplementedError

    def generate(self, generator: Optional[torch.Generator]) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw one mask. Returns a bool tensor ``(t*h*w,)``, True = masked."""
        return self.generate(generator).reshape(-1)

    def batch(self, batch_size: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw ``batch_size`` independent masks: bool ``(B, t*h*w)``."""
        return torch.stack([self(generator) for _ in range(batch_size)])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, ratio={self.ratio}, '
                f'masked={self.num_masked}/{self.num_tokens})')


def _choose(n: int, k: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    """Bool ``(n,)`` with exactly ``k`` True entries at random positions."""
    mask = torch.zeros(n, dtype=torch.bool)
    mask[torch.randperm(n, generator=generator)[:k]] = True
    return mask


@MASK_GENERATORS.register_module()
class TubeMaskGenerator(BaseMaskGenerator):
    """Tube masking: ``int(ratio * h * w)`` spatial positions masked in all ``t`` steps."""

    @property
    def num_masked(self) -> int:
        t, h, w = self.input_size
        return t * int(self.ratio * h * w)

    def generate(self, generator=None):
        t, h, w = self.input_size
        frame = _choose(h * w, int(self.ratio * h * w), generator)  # (h*w,)
        return frame.expand(t, h * w)


@MASK_GENERATORS.register_module()
class RunningCellMaskGenerator(BaseMaskGenerator):
    """Running-cell masking of the VideoMAE V2 decoder.

    With ``k = int(4 * ratio)`` masked positions per 2x2 cell and the queue
    ``[1] * k + [0] * (4 - k)``, ``mask[t, y, x] = queue[(2*(y%2) + x%2 + s + t + 1) % 4]``
    with a random shift ``s`` in ``{0, 1, 2, 3}`` per clip (the official ``Cell`` advances its
    pointer once before the first step, hence the ``+ 1``). ``h`` and ``w`` must be even.
    """

    def __init__(self, input_size: Sequence[int], ratio: float = 0.5):
        super().__init__(input_size, ratio)
        t, h, w = self.input_size
        self.k = int(4 * ratio)
        if not 0 < self.k < 4:
            raise ValueError(f'running-cell ratio must give 1 to 3 masked positions in a 2x2 '
                             f'cell, got ratio {ratio} -> {self.k}')
        if h % 2 or w % 2:
            raise ValueError(f'running-cell masking needs an even token grid, got h={h}, w={w}')
        queue = torch.tensor([1] * self.k + [0] * (4 - self.k), dtype=torch.bool, device='cpu')
        ys, xs = torch.arange(h, device='cpu'), torch.arange(w, device='cpu')
        cell = 2 * (ys % 2)[:, None] + (xs % 2)[None, :]  # (h, w): position inside the 2x2 cell
        # all four shifts precomputed: (4, t, h, w)
        phase = (cell[None, None] + torch.arange(4, device='cpu')[:, None, None, None]
                 + torch.arange(t, device='cpu')[None, :, None, None] + 1) % 4
        self.patterns = queue[phase]

    @property
    def num_masked(self) -> int:
        t, h, w = self.input_size
        return t * h * w * self.k // 4

    def generate(self, generator=None):
        s = int(torch.randint(4, (1, ), generator=generator))
        return self.patterns[s].clone()


@MASK_GENERATORS.register_module()
class RandomMaskGenerator(BaseMaskGenerator):
    """Per-token random masking: exactly ``int(ratio * t * h * w)`` tokens."""

    @property
    def num_masked(self) -> int:
        return int(self.ratio * self.num_tokens)

    def generate(self, generator=None):
        return _choose(self.num_tokens, self.num_masked, generator)


@MASK_GENERATORS.register_module()
class FrameMaskGenerator(BaseMaskGenerator):
    """Frame masking: ``int(ratio * t)`` whole time steps masked."""

    @property
    def num_masked(self) -> int:
        t, h, w = self.input_size
        return int(self.ratio * t) * h * w

    def generate(self, generator=None):
        t, h, w = self.input_size
        steps = _choose(t, int(self.ratio * t), generator)  # (t,)
        return steps[:, None].expand(t, h * w)


def build_mask_generator(cfg, input_size: Sequence[int]) -> Optional[BaseMaskGenerator]:
    """Build a generator from a config dict (``input_size`` = token grid filled in), pass a
    ready generator through, or return None for None."""
    if cfg is None or isinstance(cfg, BaseMaskGenerator):
        return cfg
    cfg = dict(cfg)
    cfg.setdefault('input_size', tuple(input_size))
    return MASK_GENERATORS.build(cfg)
