"""What the non-finite guards share: the error, the finiteness checks, the last good checkpoint."""
import os.path as osp
from typing import Dict, List, Mapping

import torch

__all__ = ['NonFiniteError', 'nonfinite_tensors', 'last_good_checkpoint', 'format_losses']


class NonFiniteError(FloatingPointError):
    """Training produced a NaN/inf loss or weights; the message says where and what to do."""


def nonfinite_tensors(state: Mapping[str, torch.Tensor], limit: int = 5) -> List[str]:
    """Names of (up to ``limit``) floating-point tensors of ``state`` holding NaN or inf."""
    bad = []
    for name, value in state.items():
        if torch.is_tensor(value) and value.is_floating_point() and value.numel():
            if not bool(torch.isfinite(value).all()):
                bad.append(name)
                if len(bad) >= limit:
                    break
    return bad


def last_good_checkpoint(work_dir: str) -> str:
    """The checkpoint ``work_dir/last_checkpoint`` names, or a phrase saying there is none."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            path = f.read().strip()
        if path and osp.isfile(path):
            return path
    return 'none (no checkpoint saved yet)'


def format_losses(log_vars: Dict) -> str:
    """``loss=nan, loss_cls=nan`` from a ``train_step``'s output."""
    out = []
    for k, v in (log_vars or {}).items():
        try:
            out.append(f'{k}={float(v.detach() if torch.is_tensor(v) else v):.6g}')
        except (TypeError, ValueError, RuntimeError):
            continue
    return ', '.join(out) or '(no loss terms logged)'
