"""Parameter and FLOP counts as the VideoMAE V2 paper reports them.

Counts are multiply-adds (the paper's "FLOPs") of one clip, from PyTorch's
:class:`~torch.utils.flop_counter.FlopCounterMode` (matmuls, linears, convolutions and attention;
elementwise ops and norms are not counted, as in fvcore). Attention through
``scaled_dot_product_attention`` is counted as its two matmuls, ``2 * B * heads * Nq * Nk * d``
multiply-adds: PyTorch's counter has formulas for the CUDA kernels only, so the CPU kernel gets
one here (on the ``meta`` device SDPA falls back to plain ``bmm``s, counted as such).

For a pretraining model the count is the paper's: all ``T/2 * H/p * W/p`` tubelets embedded
before masking (as the official code does), the encoder on the visible tokens, the decoder on
visible + query tokens. The model embeds only the visible tubelets (the same numbers, see
:class:`~vmae2.models.backbones.vit_videomae.PatchEmbed3D`), so the embedding of the hidden ones
is added to the counted work (:func:`skipped_embed_macs`).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmaction.models.recognizers import BaseRecognizer
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from vmae2.masking import RunningCellMaskGenerator
from vmae2.models import VideoMAEV2

__all__ = ['count_flops', 'count_params', 'skipped_embed_macs']


def _sdpa_cpu_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)  # the counter hands over shapes


def _custom_mapping() -> dict:
    mapping = {}
    aten = torch.ops.aten
    for name in ('_scaled_dot_product_flash_attention_for_cpu', ):
        if hasattr(aten, name):
            mapping[getattr(aten, name)] = _sdpa_cpu_flops
    return mapping


def skipped_embed_macs(model: VideoMAEV2, encoder_mask: torch.Tensor) -> int:
    """Multiply-adds of embedding the tubelets hidden from the encoder (the paper counts them,
    the model skips them): ``hidden * D * C * tubelet * p * p``, summed over the batch."""
    proj = model.encoder.patch_embed.proj
    return int(encoder_mask.bool().sum()) * proj.weight[0].numel() * proj.out_channels


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_flops(model: nn.Module,
                shape: Sequence[int] = (16, 224, 224),
                device: str = 'meta',
                dual: Optional[bool] = None,
                seed: int = 0) -> float:
    """GMACs of one clip through ``model``.

    Args:
        model (nn.Module): A :class:`VideoMAEV2` (pretraining, with its mask generators) or a
            recognizer / backbone taking ``(1, 3, T, H, W)`` clips.
        shape (Sequence[int]): ``(T, H, W)``.
        device (str): Where to run; ``'meta'`` computes nothing (fast for ViT-g).
        dual (bool, optional): For pretraining, force dual (True) or encoder-only (False)
            masking; None = as configured.
        seed (int): Seed of the masks (counts do not depend on it: mask sizes are fixed).

    Returns:
        float: GMACs (multiply-adds / 1e9) of one clip.
    """
    model = model.eval()
    T, H, W = shape
    x = torch.zeros(1, 3, T, H, W, device=device)
    counter = FlopCounterMode(display=False, custom_mapping=_custom_mapping())
    if isinstance(model, VideoMAEV2):
        grid = tuple(model.grid(x))
        enc_gen, dec_gen = model.mask_generators(grid)
        g = torch.Generator().manual_seed(seed)
        enc = enc_gen.batch(1, g)
        dec = dec_gen.batch(1, g) if dec_gen is not None else None
        if dual is False:
            dec = None
        elif dual and dec is None:
            dec = RunningCellMaskGenerator(grid, 0.5).batch(1, g)
        with counter:
            model.forward_mae(x, enc, dec)
        return (counter.get_total_flops() / 2 + skipped_embed_macs(model, enc)) / 1e9
    with counter:
        if isinstance(model, BaseRecognizer):
            model(x[:, None], mode='tensor', stage='head')  # (B, num_clips, C, T, H, W)
        else:
            model(x)
    return counter.get_total_flops() / 2e9
