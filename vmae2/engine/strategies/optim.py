"""Move an optimizer built on the unwrapped model onto the parameters of its sharded wrapper.

Under FSDP (``use_orig_params=True``) each original parameter becomes a 1-D view of this
rank's shard - or an empty tensor - under a name with wrapper prefixes. Every rule that reads
a parameter's shape or name (no weight decay for ``ndim == 1``, layer id from ``blocks.N``) must
therefore run before wrapping. :func:`record_names` keeps ``id(param) -> name`` of the
unwrapped model; :func:`rebuild_on_wrapped` then keeps every group (lr, weight decay,
``lr_scale``, ``layer_id``...) and puts the wrapped parameters of the same names in it.
"""
from typing import Dict

import torch.nn as nn
from torch.optim import Optimizer

from .shards import clean_name

__all__ = ['record_names', 'rebuild_on_wrapped', 'named_groups']


def record_names(model: nn.Module) -> Dict[int, str]:
    """``{id(param): name}`` of the unwrapped model."""
    return {id(p): name for name, p in model.named_parameters()}


def rebuild_on_wrapped(optimizer: Optimizer, wrapped: nn.Module,
                       id_to_name: Dict[int, str]) -> Optimizer:
    """``optimizer`` with each group's parameters replaced by ``wrapped``'s of the same names.

    Args:
        optimizer: built on the unwrapped model, with no state yet.
        wrapped: the FSDP-wrapped model.
        id_to_name: :func:`record_names` of the unwrapped model.

    Raises:
        RuntimeError: the optimizer already has state, or a parameter of a group has no
            counterpart in the wrapped model.
    """
    if optimizer.state:
        raise RuntimeError('the optimizer must be rebuilt before its first step')
    by_name = {clean_name(n): p for n, p in wrapped.named_parameters()}
    for group in optimizer.param_groups:
        names = [id_to_name[id(p)] for p in group['params']]
        missing = [n for n in names if n not in by_name]
        if missing:
            raise RuntimeError(f'parameters {missing[:5]} of the optimizer are not in the '
                               'wrapped model (use_orig_params=False?)')
        # in place: the optimizer has no state yet, and its class may not take back every
        # key of its own `defaults` (AdamW's decoupled_weight_decay)
        group['params'] = [by_name[n] for n in names]
    return optimizer


def named_groups(optimizer: Optimizer, model: nn.Module) -> Dict[str, dict]:
    """``{parameter name: its group's hyper-parameters}`` (without ``params``), names as in the
    unwrapped model: the same mapping for a plain and a wrapped model when the groups agree."""
    names = {id(p): clean_name(n) for n, p in model.named_parameters()}
    out = {}
    for group in optimizer.param_groups:
        hyper = {k: v for k, v in group.items() if k not in ('params', 'param_names')}
        for p in group['params']:
            out[names[id(p)]] = hyper
    return out
