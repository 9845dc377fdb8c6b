"""Video ViT of VideoMAE V2: tubelet embedding, fixed sinusoid positions, pre-norm blocks.

One backbone serves every stage:

* pretraining encoder (``use_mean_pooling=False``): final ``norm``, tokens out, and
  :meth:`VideoViT.forward_features` takes the indices of the visible tokens;
* fine-tuning / feature extraction (``use_mean_pooling=True``, the official fine-tuning layout):
  no final ``norm``, mean pooling then ``fc_norm``;
* AVA detection (``out_type='featmap'``): a ``(B, D, T/2, H/p, W/p)`` map.

Parameter names are the official ones, so official checkpoints load as they are.
"""
from typing import Dict, Literal, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from vmae2.checkpoints import load_checkpoint
from vmae2.registry import MODELS

from ..layers import AttnImpl, Block, position_table

__all__ = ['VideoViT', 'PatchEmbed3D', 'resolve_arch']

ARCH_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'feedforward_channels', 'patch_size')


def _arch(dims, layers, heads, ffn, patch):
    return dict(zip(ARCH_KEYS, (dims, layers, heads, ffn, patch)))


#: Sizes of the paper (Table 1 of VideoMAE V2). ViT-g's MLP ratio is 48/11: 1408 * 48 / 11 = 6144.
ARCH_ZOO: Dict[str, dict] = {
    **dict.fromkeys(['s', 'small'], _arch(384, 12, 6, 1536, 16)),
    **dict.fromkeys(['b', 'base'], _arch(768, 12, 12, 3072, 16)),
    **dict.fromkeys(['l', 'large'], _arch(1024, 24, 16, 4096, 16)),
    **dict.fromkeys(['h', 'huge'], _arch(1280, 32, 16, 5120, 16)),
    **dict.fromkeys(['g', 'giant'], _arch(1408, 40, 16, 6144, 14)),
}


def resolve_arch(arch: Union[str, dict]) -> dict:
    """Look ``arch`` up in :data:`ARCH_ZOO` (any case) or check a custom dict's keys."""
    if isinstance(arch, str):
        if arch.lower() not in ARCH_ZOO:
            raise KeyError(f'Unknown arch {arch!r}; choose from {sorted(set(ARCH_ZOO))} or pass '
                           f'a dict with keys {ARCH_KEYS}')
        return dict(ARCH_ZOO[arch.lower()])
    missing = set(ARCH_KEYS) - set(arch)
    if missing:
        raise KeyError(f'Custom arch lacks keys {sorted(missing)}; it needs {ARCH_KEYS}')
    return {k: arch[k] for k in ARCH_KEYS}


class PatchEmbed3D(nn.Module):
    """Tubelet embedding: ``Conv3d(C, D, kernel=stride=(tubelet, p, p))``.

    :meth:`forward` is the conv; :meth:`embed_tubelets` (what the backbone calls) computes the
    same as one GEMM over the tubelets, all of them or only those an index names (the
    pretraining encoder's visible ~10 %): the kernel equals its stride, so each token is
    ``W @ tubelet + b`` with the tubelet flattened in ``(C, q, p, p)`` order, the conv's numbers
    up to summation order. On a 2-core CPU (ViT-B, 2 clips of 16x224², one thread) the GEMM
    takes ~0.1-0.17 s where the conv takes ~0.28 s forward (~0.45 s with the weight gradient),
    and embedding only the visible tubelets for pretraining ~0.09 s instead of ~0.5 s.
    """

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int, tubelet_size: int):
        super().__init__()
        size = (tubelet_size, patch_size, patch_size)
        self.proj = nn.Conv3d(in_channels, embed_dims, kernel_size=size, stride=size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> ``(B, D, T/tubelet, H/p, W/p)``."""
        return self.proj(x)

    def embed_tubelets(self, x: torch.Tensor,
                       index: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The tubelets ``index`` names (all if None), embedded as tokens.

        Args:
            x (Tensor): ``(B, C, T, H, W)``.
            index (Tensor, optional): Long ``(B, K)`` indices into the ``N = t*h*w`` tubelets,
                ``(t, h, w)`` order.

        Returns:
            Tensor: ``(B, K or N, D)``, contiguous, tokens in ``index`` (or ``(t, h, w)``) order.
        """
        B, C, T, H, W = x.shape
        q, p, _ = self.proj.kernel_size
        t, h, w = T // q, H // p, W // p
        # a strided view (B, t, h, w, C, q, p, p); the conv, too, ignores the frames / pixels
        # past the last whole tubelet
        view = x[:, :, :t * q, :h * p, :w * p].reshape(B, C, t, q, h, p, w, p)
        view = view.permute(0, 2, 4, 6, 1, 3, 5, 7)
        if index is None:
            tubelets = view.reshape(B, t * h * w, -1)  # one copy of the clip
        else:  # the indexing copies only the K tubelets
            ti = torch.div(index, h * w, rounding_mode='floor')
            hi = torch.div(index, w, rounding_mode='floor') % h
            b = torch.arange(B, device=index.device)[:, None]
            tubelets = view[b, ti, hi, index % w].reshape(B, index.shape[1], -1)
        weight = self.proj.weight.reshape(self.proj.out_channels, -1)  # (D, C*q*p*p)
        return F.linear(tubelets, weight, self.proj.bias)


@MODELS.register_module()
class VideoViT(BaseModule):
    """Video vision transformer of VideoMAE / VideoMAE V2.

    Args:
        arch (str | dict): ``'s'``/``'small'``, ``'b'``/``'base'``, ``'l'``/``'large'``,
            ``'h'``/``'huge'``, ``'g'``/``'giant'`` (any case), or a dict with keys
            ``embed_dims, num_layers, num_heads, feedforward_channels, patch_size``.
        in_channels (int): Input channels. Defaults to 3.
        patch_size (int, optional): Overrides the arch's patch size (e.g. ViT-g at 16 instead
            of 14); every size that follows from it (token grid, masks, decoder head, position
            table) is derived from the model, so this one value changes all of them.
        tubelet_size (int): Frames per token. Defaults to 2.
        qkv_bias (bool): Learn q and v biases. Defaults to True.
        drop_rate (float): Dropout after the position embedding and projections.
        attn_drop_rate (float): Attention-weight dropout.
        drop_path_rate (float): Stochastic depth of the last block; block ``i`` of ``L`` gets
            ``rate * i / (L - 1)``.
        init_values (float, optional): Layer scale init; None or 0 = no layer scale.
        use_mean_pooling (bool): Fine-tuning layout (no ``norm``, ``fc_norm`` after pooling) if
            True; pretraining-encoder layout (final ``norm``, no ``fc_norm``) if False.
        out_type (str): What :meth:`forward` returns: ``'pooled'`` ``(B, D)``, ``'tokens'``
            ``(B, N, D)`` or ``'featmap'`` ``(B, D, T/2, H/p, W/p)``.
        with_cp (bool): Activation checkpointing per block while training.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        pos_embed_type (str): Fixed position table: ``'1d'`` (official: sines of the flattened
            token index) or ``'3d'`` (sines per axis; for toy widths, see
            :mod:`vmae2.models.layers.pos_embed`). Defaults to ``'1d'``.
        attn_impl (str): Attention kernel of every block: ``'auto'`` (by device, dtype and
            sequence length), ``'sdpa'`` or ``'math'``; see
            :mod:`vmae2.models.layers.attention_kernels`. Same numbers up to rounding.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH)`` loads any
            official / HF / vmae2 layout through
            :func:`vmae2.checkpoints.load_checkpoint`.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 in_channels: int = 3,
                 patch_size: Optional[int] = None,
                 tubelet_size: int = 2,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 init_values: Optional[float] = None,
                 use_mean_pooling: bool = True,
                 out_type: Literal['pooled', 'tokens', 'featmap'] = 'pooled',
                 with_cp: bool = False,
                 norm_eps: float = 1e-6,
                 pos_embed_type: Literal['1d', '3d'] = '1d',
                 attn_impl: AttnImpl = 'auto',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if pos_embed_type not in ('1d', '3d'):
            raise ValueError(f"pos_embed_type must be '1d' or '3d', got {pos_embed_type!r}")
        self.pos_embed_type = pos_embed_type
        if out_type not in ('pooled', 'tokens', 'featmap'):
            raise ValueError(f'out_type must be pooled, tokens or featmap, got {out_type!r}')
        self.arch = resolve_arch(arch)
        if patch_size is not None:
            self.arch['patch_size'] = int(patch_size)
        self.embed_dims = D = self.arch['embed_dims']
        self.num_layers = self.arch['num_layers']
        self.patch_size = self.arch['patch_size']
        self.tubelet_size = tubelet_size
        self.out_type = out_type
        self.with_cp = with_cp

        self.patch_embed = PatchEmbed3D(in_channels, D, self.patch_size, tubelet_size)
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, self.num_layers, device='cpu').tolist()
        self.blocks = nn.ModuleList([
            Block(D, self.arch['num_heads'], self.arch['feedforward_channels'], qkv_bias,
                  drop_rate, attn_drop_rate, dpr[i], init_values, norm_eps, attn_impl)
            for i in range(self.num_layers)
        ])
        # Official layouts: the pretraining encoder ends with `norm`; the fine-tuning model has
        # no `norm` (Identity) and normalises the pooled feature with `fc_norm` instead.
        self.norm = nn.Identity() if use_mean_pooling else nn.LayerNorm(D, eps=norm_eps)
        self.fc_norm = nn.LayerNorm(D, eps=norm_eps) if use_mean_pooling else nn.Identity()
        self.apply(self._init_trunc_normal)

    @staticmethod
    def _init_trunc_normal(m: nn.Module) -> None:
        """The official fine-tuning init: trunc-normal(0.02) Linear, zero bias, LayerNorm 1/0."""
        if isinstance(m, nn.Linear):
            trunc_normal_(m.weight, std=.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """Load ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None)`` with layout
        conversion and a report of missing / unexpected keys; otherwise keep the init above."""
        if self.init_cfg and self.init_cfg.get('type') == 'Pretrained':
            load_checkpoint(self, self.init_cfg['checkpoint'], prefix=self.init_cfg.get('prefix'))
            self._is_init = True
            return
        super().init_weights()

    def grid_size(self, x: torch.Tensor) -> Sequence[int]:
        """Token grid ``(t, h, w)`` of a ``(B, C, T, H, W)`` clip."""
        T, H, W = x.shape[-3:]
        return T // self.tubelet_size, H // self.patch_size, W // self.patch_size

    def forward_features(self,
                         x: torch.Tensor,
                         keep_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Embed the ``keep_idx`` tubelets (all if None), add their positions, run the blocks.

        Args:
            x (Tensor): Normalised clip ``(B, C, T, H, W)``.
            keep_idx (Tensor, optional): ``(B, Nk)`` long indices into the ``N = t*h*w``
                tokens in ``(t, h, w)`` order (the encoder-visible tokens); all if None.

        Returns:
            Tensor: ``(B, Nk, D)`` (or ``(B, N, D)``) after ``norm``.
        """
        grid = self.grid_size(x)
        # embed only the kept tubelets (one GEMM, no boolean-mask sync), add their positions
        x = self.patch_embed.embed_tubelets(x, keep_idx)  # (B, Nk or N, D), contiguous
        pos = position_table(self.pos_embed_type, grid, x.shape[-1], x.device, x.dtype)
        x = x + (pos if keep_idx is None else pos[keep_idx])
        x = self.pos_drop(x)
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        for blk in self.blocks:
            x = cp.checkpoint(blk, x, use_reentrant=False) if use_cp else blk(x)
        return self.norm(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> ``(B, D)``, ``(B, N, D)`` or ``(B, D, t, h, w)``
        (``out_type``)."""
        tokens = self.forward_features(x)
        if self.out_type == 'tokens':
            return tokens
        if self.out_type == 'featmap':
            t, h, w = self.grid_size(x)
            return tokens.transpose(1, 2).reshape(x.shape[0], self.embed_dims, t, h, w)
        return self.fc_norm(tokens.mean(1))

    def get_layer_depth(self, param_name: str, prefix: str = '') -> tuple:
        """Layer id for layer-wise lr decay: 0 = embedding, i + 1 = block i, L + 1 = the rest.

        Returns:
            tuple[int, int]: ``(layer_id, num_layers + 2)``.
        """
        total = self.num_layers + 2
        if not param_name.startswith(prefix):
            return total - 1, total
        name = param_name[len(prefix):]
        if name.startswith('patch_embed'):
            return 0, total
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, total
        return total - 1, total
