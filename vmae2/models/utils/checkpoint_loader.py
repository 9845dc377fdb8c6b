"""Load official VideoMAE V2, HF transformers and vmae2 checkpoints into any vmae2 model.

Layouts recognised (by their keys), each converted to the model at hand:

* official pretraining: ``{'model': {encoder.*, decoder.*, encoder_to_decoder.weight,
  mask_token}}``, sometimes every key prefixed ``_orig_mod.`` (``torch.compile``);
* official fine-tuned / distilled: ``{'module' | 'model': {patch_embed.proj.*, blocks.N.*,
  fc_norm.*, head.*}}``;
* HF ``VideoMAEForPreTraining`` / ``VideoMAEForVideoClassification`` state dicts;
* vmae2 / MMEngine: ``{'state_dict': {backbone.*, cls_head.fc_cls.*}}`` (``student.``-prefixed from
  distillation) or a pretraining model's.

Targets: the pretraining model (``encoder.*`` ...), a recognizer (``backbone.*`` +
``cls_head.fc_cls.*``) or a bare backbone. Parts the target has no place for (the decoder when
fine-tuning, a head into a backbone) are *dropped* and listed as such; then
``load_state_dict(strict=False)`` gives the exact missing and unexpected keys, which are logged
and returned. A K710 head goes onto a K400/K600/K700 head through the official index lists.
"""
from collections import namedtuple
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from vmae2.models.layers.pos_embed import check_pos_embed_type

__all__ = ['LoadReport', 'load_official_checkpoint', 'canonical_state_dict']

LoadReport = namedtuple('LoadReport', ['missing_keys', 'unexpected_keys', 'dropped_keys'])

_PRETRAIN_EXTRA = ('decoder.', 'encoder_to_decoder.', 'mask_token')
_K710_TARGETS = {400: 'k400', 600: 'k600', 700: 'k700'}


def _unwrap(ckpt: dict) -> Dict[str, torch.Tensor]:
    # official: 'model' (torch DDP) or 'module' (deepspeed); MMEngine: 'state_dict'
    for key in ('state_dict', 'model', 'module'):
        if isinstance(ckpt.get(key), dict):
            return ckpt[key]
    return ckpt


def canonical_state_dict(ckpt: Union[str, dict]) -> Dict[str, Dict[str, torch.Tensor]]:
    """Split any supported checkpoint into ``backbone`` (keys relative to :class:`VideoViT`),
    ``pretrain`` (``decoder.*``, ``encoder_to_decoder.weight``, ``mask_token``) and ``head``
    (``weight``, ``bias``) parts.

    Raises:
        ValueError: When no patch embedding is found, naming the first keys seen.
    """
    if isinstance(ckpt, str):
        try:
            from vmae2.utils.checkpoint import safe_load
        except ImportError:  # pragma: no cover - the lead's module is missing
            def safe_load(path, **kw):
                return torch.load(path, map_location='cpu', weights_only=True)
        ckpt = safe_load(ckpt, map_location='cpu')
    sd = _unwrap(ckpt)
    # torch.compile (`_orig_mod.`) and DDP (`module.`) wrappers
    sd = {k.replace('_orig_mod.', '').removeprefix('module.'): v for k, v in sd.items()}
    # a vmae2 distillation checkpoint (KDRecognizer) keeps the student under `student.`
    sd = {k.removeprefix('student.'): v for k, v in sd.items()}
    from .hf_convert import hf_to_official, is_hf_state_dict
    if is_hf_state_dict(sd):
        sd = hf_to_official(sd)

    parts = dict(backbone={}, pretrain={}, head={})
    for key, value in sd.items():
        if key.startswith(_PRETRAIN_EXTRA):
            parts['pretrain'][key] = value
        elif key.startswith(('head.', 'cls_head.fc_cls.')):
            parts['head'][key.rsplit('.', 1)[1]] = value
        else:
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


def _target_prefix(model: nn.Module) -> str:
    for key in model.state_dict():
        if key.endswith('patch_embed.proj.weight'):
            return key[:-len('patch_embed.proj.weight')]
    raise ValueError(f'{type(model).__name__} has no patch_embed.proj.weight: not a vmae2 model')


def _map_head(head: Dict[str, torch.Tensor], num_classes: int, dropped: list) -> dict:
    rows = head['weight'].shape[0]
    if rows == num_classes:
        return head
    if rows == 710 and num_classes in _K710_TARGETS:
        from vmae2.utils.label_maps import load_k710_index
        idx = torch.as_tensor(load_k710_index(_K710_TARGETS[num_classes]))
        print_log(f'Mapping the K710 head onto {_K710_TARGETS[num_classes].upper()} with the '
                  'official index list', logger='current')
        return {k: v[idx] for k, v in head.items()}
    # as the official fine-tuning script: a head of another size is not loaded
    dropped += [f'head.{k}' for k in head]
    print_log(f'Head with {rows} classes does not fit {num_classes} classes: not loaded',
              logger='current')
    return {}


def load_official_checkpoint(model: nn.Module,
                             checkpoint: Union[str, dict],
                             prefix: Optional[str] = None,
                             strict: bool = False) -> LoadReport:
    """Load any supported checkpoint into ``model`` and report what did not match.

    Args:
        model (nn.Module): A :class:`VideoMAEV2`, a recognizer with a :class:`VideoViT` backbone
            and :class:`VideoMAEHead`, or a :class:`VideoViT`.
        checkpoint (str | dict): Path (read with ``safe_load``) or loaded checkpoint.
        prefix (str, optional): Only keys under this prefix (stripped), as MMEngine's
            ``Pretrained`` init's ``prefix``.
        strict (bool): Raise if any key is missing or unexpected.

    Returns:
        LoadReport: ``missing_keys``, ``unexpected_keys`` (model names) and ``dropped_keys``
        (checkpoint parts the model has no place for).

    Raises:
        ValueError: For an unknown layout, or shape mismatches (each key named with both shapes).
    """
    if isinstance(checkpoint, str):
        from vmae2.utils.checkpoint import safe_load
        checkpoint = safe_load(checkpoint, map_location='cpu')
    check_pos_embed_type(model, checkpoint)
    if prefix:
        sd = _unwrap(checkpoint)
        checkpoint = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    parts = canonical_state_dict(checkpoint)
    target = _target_prefix(model)
    own = model.state_dict()
    out, dropped = {}, []
    out.update({target + k: v for k, v in parts['backbone'].items()})

    if target == 'encoder.':  # pretraining model
        out.update(parts['pretrain'])
        dropped += [f'head.{k}' for k in parts['head']]
    else:
        dropped += list(parts['pretrain'])
        head_key = next((k for k in own if k.endswith('fc_cls.weight')), None)
        if head_key is not None and parts['head']:
            head = _map_head(parts['head'], own[head_key].shape[0], dropped)
            out.update({head_key[:-len('weight')] + k: v for k, v in head.items()})
        else:
            dropped += [f'head.{k}' for k in parts['head']]

    bad = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
           for k, v in out.items() if k in own and own[k].shape != v.shape]
    if bad:
        raise ValueError('Checkpoint does not fit the model (wrong arch?):\n  ' + '\n  '.join(bad))
    missing, unexpected = model.load_state_dict(out, strict=False)
    report = LoadReport(sorted(missing), sorted(unexpected), sorted(dropped))
    print_log(f'Loaded checkpoint into {type(model).__name__}: missing keys {report.missing_keys}, '
              f'unexpected keys {report.unexpected_keys}, dropped (no place in this model) '
              f'{report.dropped_keys}', logger='current')
    if strict and (missing or unexpected):
        raise RuntimeError(f'Strict load failed: missing {report.missing_keys}, '
                           f'unexpected {report.unexpected_keys}')
    return report
