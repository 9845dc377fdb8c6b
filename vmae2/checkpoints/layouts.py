"""Checkpoint layouts: recognise a file by its keys and split it into canonical parts.

Layouts recognised (each branch below names the one it handles):

* official pretraining: ``{'model': {encoder.*, decoder.*, encoder_to_decoder.weight,
  mask_token}}``, sometimes every key prefixed ``_orig_mod.`` (``torch.compile``);
* official fine-tuned / distilled: ``{'module' | 'model': {patch_embed.proj.*, blocks.N.*,
  fc_norm.*, head.*}}``;
* HF ``VideoMAEForPreTraining`` / ``VideoMAEForVideoClassification`` state dicts;
* vmae2 / MMEngine: ``{'state_dict': {backbone.*, cls_head.fc_cls.*}}`` (``student.``-prefixed
  from distillation) or a pretraining model's (``encoder.*`` ...).

The canonical parts are ``backbone`` (keys relative to :class:`~vmae2.models.VideoViT`),
``pretrain`` (``decoder.*``, ``encoder_to_decoder.weight``, ``mask_token``) and ``head``
(``weight``, ``bias``). :func:`vmae2.checkpoints.load_checkpoint` maps them onto a model.
"""
from typing import Dict, Union

import torch

from .hf import hf_to_official, is_hf_state_dict
from .safe_load import safe_load

__all__ = ['PRETRAIN_KEYS', 'unwrap', 'canonical_state_dict']

#: Key prefixes of the pretraining-only parts (not in a recognizer).
PRETRAIN_KEYS = ('decoder.', 'encoder_to_decoder.', 'mask_token')

Parts = Dict[str, Dict[str, torch.Tensor]]


def unwrap(ckpt: dict) -> Dict[str, torch.Tensor]:
    """The state dict inside a checkpoint file's dict."""
    # official: 'model' (torch DDP) or 'module' (deepspeed); MMEngine: 'state_dict'
    for key in ('state_dict', 'model', 'module'):
        if isinstance(ckpt.get(key), dict):
            return ckpt[key]
    return ckpt


def canonical_state_dict(ckpt: Union[str, dict]) -> Parts:
    """Split any supported checkpoint (a path, read with :func:`safe_load`, or a loaded dict)
    into its ``backbone``, ``pretrain`` and ``head`` parts.

    Raises:
        ValueError: When no patch embedding is found, naming the first keys seen.
    """
    if isinstance(ckpt, str):
        ckpt = safe_load(ckpt, map_location='cpu')
    sd = unwrap(ckpt)
    # torch.compile (`_orig_mod.`) and DDP (`module.`) wrappers
    sd = {k.replace('_orig_mod.', '').removeprefix('module.'): v for k, v in sd.items()}
    # a vmae2 distillation checkpoint (KDRecognizer) keeps the student under `student.`
    sd = {k.removeprefix('student.'): v for k, v in sd.items()}
    if is_hf_state_dict(sd):  # HF transformers names
        sd = hf_to_official(sd)

    parts: Parts = dict(backbone={}, pretrain={}, head={})
    for key, value in sd.items():
        if key.startswith(PRETRAIN_KEYS):
            parts['pretrain'][key] = value
        elif key.startswith(('head.', 'cls_head.fc_cls.')):  # official head / vmae2 head
            parts['head'][key.rsplit('.', 1)[1]] = value
        else:  # official fine-tuned keys are already backbone-relative
            for prefix in ('encoder.', 'backbone.'):
                if key.startswith(prefix):
                    key = key[len(prefix):]
                    break
            if key.endswith('pos_embed'):  # a fixed sinusoid table in some exports: not a weight
                continue
            parts['backbone'][key] = value
    if 'patch_embed.proj.weight' not in parts['backbone']:
        raise ValueError('Not a VideoMAE / VideoMAE V2 checkpoint: no patch embedding '
                         '(patch_embed.proj.weight, encoder.patch_embed.proj.weight, '
                         'backbone.patch_embed.proj.weight or the HF name) among its keys '
                         f'{sorted(sd)[:8]}{" ..." if len(sd) > 8 else ""}')
    return parts
