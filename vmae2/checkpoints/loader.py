"""``load_checkpoint``: any supported checkpoint layout into any vmae2 model, with a key report.

Targets: the pretraining model (``encoder.*`` ...), a recognizer (``backbone.*`` +
``cls_head.fc_cls.*``), a detector or anything else with a :class:`VideoViT` inside (found by
its ``patch_embed.proj.weight``), or a bare backbone. Parts the target has no place for (the
decoder when fine-tuning, a head into a backbone) are *dropped* and listed as such; then
``load_state_dict(strict=False)`` gives the exact missing and unexpected keys, which are logged
and returned. A K710 head goes onto a K400/K600/K700 head through the official index lists.
"""
from collections import namedtuple
from typing import Optional, Union

import torch.nn as nn
from mmengine.logging import print_log

from .k710 import map_head
from .layouts import canonical_state_dict, unwrap
from .pos_embed_record import check_pos_embed_type
from .safe_load import safe_load

__all__ = ['LoadReport', 'load_checkpoint']

LoadReport = namedtuple('LoadReport', ['missing_keys', 'unexpected_keys', 'dropped_keys'])


def _target_prefix(model: nn.Module) -> str:
    for key in model.state_dict():
        if key.endswith('patch_embed.proj.weight'):
            return key[:-len('patch_embed.proj.weight')]
    raise ValueError(f'{type(model).__name__} has no patch_embed.proj.weight: not a vmae2 model')


def load_checkpoint(model: nn.Module,
                    checkpoint: Union[str, dict],
                    prefix: Optional[str] = None,
                    strict: bool = False) -> LoadReport:
    """Load any supported checkpoint into ``model`` and report what did not match.

    Args:
        model (nn.Module): A :class:`VideoMAEV2`, a recognizer with a :class:`VideoViT` backbone
            and :class:`VideoMAEHead`, a :class:`VideoViT`, or a module holding one.
        checkpoint (str | dict): Path (read with :func:`safe_load`) or loaded checkpoint.
        prefix (str, optional): Only keys under this prefix (stripped), as MMEngine's
            ``Pretrained`` init's ``prefix``.
        strict (bool): Raise if any key is missing or unexpected.

    Returns:
        LoadReport: ``missing_keys``, ``unexpected_keys`` (model names) and ``dropped_keys``
        (checkpoint parts the model has no place for).

    Raises:
        ValueError: For an unknown layout, a ``pos_embed_type`` record that differs from the
            model's, or shape mismatches (each key named with both shapes).
    """
    if isinstance(checkpoint, str):
        checkpoint = safe_load(checkpoint, map_location='cpu')
    check_pos_embed_type(model, checkpoint)
    if prefix:
        sd = unwrap(checkpoint)
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
            head = map_head(parts['head'], own[head_key].shape[0], dropped)
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
