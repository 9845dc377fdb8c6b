"""VideoMAE V2 pretraining with dual masking (and VideoMAE V1 without decoder masking).

The recipe, as in :meth:`VideoMAEV2.forward_mae`:

1. **mask**: a tube mask hides ~90 % of the tokens from the encoder; independently, a
   running-cell mask picks the decoder *queries* (the tokens it does **not** mask). Without a
   decoder mask, the queries are the encoder-masked tokens (VideoMAE V1).
2. **encode** the visible tokens only (gathered by index after the tubelet embedding).
3. **decode**: ``encoder_to_decoder(visible) + pos`` followed by ``mask_token + pos`` for every
   query in ascending token order; the head predicts the query pixels.
4. **loss**: MSE against per-tubelet normalised pixels, averaged over the queries the encoder did
   not see (queries the encoder saw weigh 0, exactly as the official engine).

The model owns the masks (``encoder_mask`` / ``decoder_mask`` configs, on the token grid its own
patch and tubelet sizes give): it draws each sample's pair from the ``mask_seed`` the dataset
records per view (``VideoPretrainDataset``), so masks depend on (seed, epoch, index, view) only,
not on the number of data-loader workers; without seeds it draws from the global torch RNG.
"""
import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.model.weight_init import trunc_normal_

from vmae2.checkpoints import load_checkpoint
from vmae2.masking import build_mask_generator
from vmae2.registry import MODELS

from ..backbones.vit_videomae import ARCH_ZOO, VideoViT
from ..layers import position_table
from ..losses import IMAGENET_MEAN, IMAGENET_STD, MaskedMSELoss, patchify, pixel_target, unpatchify
from ..necks import DECODER_ZOO

__all__ = ['VideoMAEV2', 'mask_to_index']

DEFAULT_PREPROCESSOR = dict(
    type='ActionDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    format_shape='NCTHW')


def mask_to_index(mask: torch.Tensor) -> torch.Tensor:
    """Indices of the True entries of each row, ascending: bool ``(B, N)`` -> long ``(B, K)``.

    Every row must hold the same number ``K`` of True entries (the generators guarantee it).
    """
    counts = mask.sum(1)
    if mask.shape[0] and bool((counts != counts[0]).any()):
        raise ValueError('every sample must select the same number of tokens, got '
                         f'{counts.tolist()}')
    return mask.nonzero()[:, 1].reshape(mask.shape[0], -1)


@MODELS.register_module()
class VideoMAEV2(BaseModel):
    """VideoMAE V2 pretraining model (official parameter names: ``encoder``, ``decoder``,
    ``encoder_to_decoder``, ``mask_token``).

    Args:
        backbone (dict | VideoViT): Encoder config or module (built with the pretraining layout,
            ``use_mean_pooling=False``, unless the dict says otherwise).
        decoder (dict | nn.Module): Decoder config (``type`` defaults to ``VideoMAEDecoder``;
            ``embed_dims``/``num_heads`` default to the encoder arch's row of
            :data:`DECODER_ZOO`, the MLP to the encoder's ratio, the head to
            ``3 * tubelet * p * p``) or a module.
        encoder_mask (dict): Encoder mask generator (``MASK_GENERATORS``; the token grid is
            filled in per input size).
        decoder_mask (dict, optional): Decoder (query) mask generator; None = VideoMAE V1.
        norm_pix_loss (bool): Per-tubelet normalised targets. Defaults to True.
        target_mean, target_std: Normalisation of the inputs, in ``[0, 1]`` units (ImageNet).
        data_preprocessor (dict, optional): Defaults to mmaction2's ``ActionDataPreprocessor``
            with the ImageNet mean / std (uint8 in, normalised on the device).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)`` loads official /
            HF / vmae2 checkpoints with a key report.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 decoder: Union[dict, nn.Module, None] = None,
                 encoder_mask: Optional[dict] = dict(type='TubeMaskGenerator', ratio=0.9),
                 decoder_mask: Optional[dict] = dict(type='RunningCellMaskGenerator', ratio=0.5),
                 norm_pix_loss: bool = True,
                 target_mean=IMAGENET_MEAN,
                 target_std=IMAGENET_STD,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = data_preprocessor or copy.deepcopy(DEFAULT_PREPROCESSOR)
        if isinstance(data_preprocessor, dict):
            # built from our registry: it reaches mmaction2's without a default scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(backbone, dict):
            backbone = dict(backbone)
            backbone.setdefault('type', 'VideoViT')
            backbone.setdefault('use_mean_pooling', False)
            backbone.setdefault('out_type', 'tokens')
            backbone = MODELS.build(backbone)
        self.encoder: VideoViT = backbone
        D, p, q = backbone.embed_dims, backbone.patch_size, backbone.tubelet_size
        self.patch_size, self.tubelet_size = p, q
        in_channels = backbone.patch_embed.proj.in_channels

        if not isinstance(decoder, nn.Module):
            cfg = dict(decoder or {})
            cfg.setdefault('type', 'VideoMAEDecoder')
            # the decoder size follows the encoder's width and depth, whatever its patch size
            def size(a):
                return {k: v for k, v in (a or {}).items() if k != 'patch_size'}
            arch = size(getattr(backbone, 'arch', None))
            zoo_key = next((k for k, v in ARCH_ZOO.items() if size(v) == arch), None)
            if zoo_key is not None:
                for k, v in DECODER_ZOO[zoo_key].items():
                    cfg.setdefault(k, v)
            if 'embed_dims' not in cfg or 'num_heads' not in cfg:
                raise ValueError('decoder needs embed_dims and num_heads for a custom arch')
            # the official decoder uses the encoder's MLP ratio: int(512 * 48/11) = 2234 for g
            cfg.setdefault('feedforward_channels',
                           cfg['embed_dims'] * backbone.arch['feedforward_channels'] // D)
            cfg.setdefault('out_channels', in_channels * q * p * p)
            decoder = MODELS.build(cfg)
        self.decoder = decoder
        Dd = self.decoder.norm.normalized_shape[0]
        self.decoder_dims = Dd
        self.encoder_to_decoder = nn.Linear(D, Dd, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, Dd))

        self.encoder_mask_cfg = encoder_mask
        self.decoder_mask_cfg = decoder_mask
        self._mask_generators: Dict[tuple, tuple] = {}
        self.norm_pix_loss = norm_pix_loss
        self.target_mean, self.target_std = tuple(target_mean), tuple(target_std)
        self.loss_fn = MaskedMSELoss()
        self._init_official()

    def _init_official(self) -> None:
        """Official pretraining init: xavier-uniform Linear, zero bias, LayerNorm 1/0,
        ``mask_token`` trunc-normal(0.02); the Conv3d keeps PyTorch's default."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        trunc_normal_(self.mask_token, std=.02)

    def init_weights(self) -> None:
        if self.init_cfg and self.init_cfg.get('type') == 'Pretrained':
            load_checkpoint(self, self.init_cfg['checkpoint'])
            self._is_init = True
            return
        super().init_weights()

    # ------------------------------------------------------------------ masks
    def grid(self, x: torch.Tensor) -> Tuple[int, int, int]:
        """Token grid ``(t, h, w)`` of a clip ``(B, C, T, H, W)``."""
        return self.encoder.grid_size(x)

    def mask_generators(self, grid: Tuple[int, int, int]) -> tuple:
        """(encoder, decoder-or-None) generators for a token grid, built once per grid."""
        if grid not in self._mask_generators:
            self._mask_generators[grid] = (build_mask_generator(self.encoder_mask_cfg, grid),
                                           build_mask_generator(self.decoder_mask_cfg, grid))
        return self._mask_generators[grid]

    def get_masks(self, x: torch.Tensor, data_samples: Optional[List] = None,
                  generator: Optional[torch.Generator] = None) -> tuple:
        """Draw the masks of a batch.

        Each sample's pair comes from its own generator seeded with the ``mask_seed`` of its
        data sample (encoder mask first, then decoder mask, from the same stream) when every
        sample has one; otherwise all come from ``generator`` (None = the global torch RNG).

        Returns:
            tuple: ``encoder_mask`` bool ``(B, N)`` and ``decoder_mask`` bool ``(B, N)`` or None
            (True = masked), on the CPU (indices drawn from CPU masks need no device sync).
        """
        B = x.shape[0]
        enc_gen, dec_gen = self.mask_generators(tuple(self.grid(x)))
        seeds = [ds.metainfo.get('mask_seed') for ds in data_samples or ()]
        if len(seeds) == B and B and all(s is not None for s in seeds):
            gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        else:
            gens = [generator] * B
        enc = torch.stack([enc_gen(g) for g in gens]) if B else enc_gen.batch(0)
        if dec_gen is None:
            return enc, None
        # drawn after the encoder mask of the same sample: one stream per sample
        dec = torch.stack([dec_gen(g) for g in gens]) if B else dec_gen.batch(0)
        return enc, dec

    # ------------------------------------------------------------------ the recipe
    def decode(self, latent: torch.Tensor, visible_idx: torch.Tensor, query_idx: torch.Tensor,
               grid: Tuple[int, int, int]) -> torch.Tensor:
        """Decoder input = [e2d(visible) + pos, mask_token + pos(queries)] -> query predictions.

        Args:
            latent (Tensor): Encoded visible tokens ``(B, Nv, D)``.
            visible_idx (Tensor): Their token indices ``(B, Nv)``.
            query_idx (Tensor): Query token indices ``(B, Nq)``, ascending.
            grid (tuple): Token grid ``(t, h, w)``, for the position table (of the encoder's
                ``pos_embed_type``, at the decoder's width).

        Returns:
            Tensor: ``(B, Nq, C * tubelet * p * p)``.
        """
        x_vis = self.encoder_to_decoder(latent)  # (B, Nv, Dd), bf16 under autocast
        # the table (cached) in the stream's dtype: the decoder's residual stream then stays in
        # the encoder's dtype (the fp32 mask token would otherwise promote it to fp32 under
        # autocast and every LayerNorm / residual add would run in fp32)
        pos = position_table(self.encoder.pos_embed_type, grid, self.decoder_dims, latent.device,
                             x_vis.dtype)  # (N, Dd)
        x_vis = x_vis + pos[visible_idx]
        x_query = (self.mask_token + pos[query_idx]).to(x_vis.dtype)  # (B, Nq, Dd)
        x = torch.cat([x_vis, x_query], dim=1)
        return self.decoder(x, query_idx.shape[1])

    def forward_mae(self,
                    inputs: torch.Tensor,
                    encoder_mask: torch.Tensor,
                    decoder_mask: Optional[torch.Tensor] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The explicit-mask call: reconstruction of the queries and the loss.

        Args:
            inputs (Tensor): Normalised clips ``(B, C, T, H, W)``.
            encoder_mask (Tensor): Bool ``(B, N)``, True = hidden from the encoder.
            decoder_mask (Tensor, optional): Bool ``(B, N)``, True = not reconstructed; the
                queries are its False entries. None = queries are the encoder-masked tokens (V1).

        Returns:
            tuple: ``pred`` ``(B, Nq, C*tubelet*p*p)`` for the queries in ascending token order,
            and the scalar loss.
        """
        encoder_mask = encoder_mask.bool().flatten(1)
        query_mask = encoder_mask if decoder_mask is None else ~decoder_mask.bool().flatten(1)
        visible_idx = mask_to_index(~encoder_mask)  # (B, Nv)
        query_idx = mask_to_index(query_mask)  # (B, Nq)
        # loss weight: only the queries the encoder did not see count
        weight = encoder_mask.gather(1, query_idx)  # (B, Nq)
        # masks may live on the CPU while the model is elsewhere (e.g. on 'meta' to count FLOPs)
        visible_idx, query_idx, weight = (
            t.to(inputs.device) for t in (visible_idx, query_idx, weight))

        latent = self.encoder.forward_features(inputs, visible_idx)  # (B, Nv, D)
        grid = tuple(self.grid(inputs))
        if encoder_mask.shape[1] != grid[0] * grid[1] * grid[2]:
            raise ValueError(f'the masks have {encoder_mask.shape[1]} tokens but the clip has a '
                             f'{grid} token grid')
        pred = self.decode(latent, visible_idx, query_idx, grid)

        # the target of the queries only (the same numbers as gathering the full target)
        target = pixel_target(inputs, self.patch_size, self.tubelet_size, self.norm_pix_loss,
                              self.target_mean, self.target_std, index=query_idx)  # (B, Nq, K)
        return pred, self.loss_fn(pred, target, weight)

    # ------------------------------------------------------------------ mmengine API
    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None,
                mode: str = 'loss'):
        """``loss``: ``dict(loss=...)``; ``tensor``: query predictions; ``predict``: the dict of
        :meth:`reconstruct`."""
        encoder_mask, decoder_mask = self.get_masks(inputs, data_samples)
        if mode == 'loss':
            return dict(loss=self.forward_mae(inputs, encoder_mask, decoder_mask)[1])
        if mode == 'tensor':
            return self.forward_mae(inputs, encoder_mask, decoder_mask)[0]
        if mode == 'predict':
            return self.reconstruct(inputs, encoder_mask, decoder_mask)
        raise ValueError(f'Invalid mode {mode!r}; use loss, tensor or predict')

    @torch.no_grad()
    def reconstruct(self, inputs: torch.Tensor, encoder_mask: torch.Tensor,
                    decoder_mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Pixels for the visualiser.

        Query tokens get their prediction (with norm_pix_loss, de-normalised with the mean and
        std of the true tubelet, as the official visualisation does); other tokens keep the input.

        Returns:
            dict: ``original`` and ``reconstruction`` ``(B, C, T, H, W)`` in ``[0, 1]``;
            ``encoder_mask``, ``decoder_mask`` (None for V1) and ``query_mask`` bool ``(B, N)``;
            ``loss``.
        """
        pred, loss = self.forward_mae(inputs, encoder_mask, decoder_mask)
        encoder_mask = encoder_mask.bool().flatten(1)
        query_mask = encoder_mask if decoder_mask is None else ~decoder_mask.bool().flatten(1)
        query_idx = mask_to_index(query_mask).to(inputs.device)
        m = inputs.new_tensor(self.target_mean).view(1, -1, 1, 1, 1)
        s = inputs.new_tensor(self.target_std).view(1, -1, 1, 1, 1)
        original = (inputs.float() * s + m).clamp(0, 1)
        patches = patchify(inputs.float() * s + m, self.patch_size, self.tubelet_size)
        B, N, P, C = patches.shape
        pred = pred.float().reshape(B, -1, P, C)
        if self.norm_pix_loss:
            ref = patches.gather(1, query_idx[:, :, None, None].expand(-1, -1, P, C))
            std = ref.var(-2, unbiased=True, keepdim=True).sqrt()
            pred = pred * std + ref.mean(-2, keepdim=True)
        patches = patches.scatter(1, query_idx[:, :, None, None].expand(-1, -1, P, C), pred)
        recon = unpatchify(patches, self.grid(inputs), self.patch_size, self.tubelet_size)
        return dict(original=original, reconstruction=recon.clamp(0, 1), loss=loss,
                    encoder_mask=encoder_mask, decoder_mask=decoder_mask, query_mask=query_mask)
