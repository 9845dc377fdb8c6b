"""``--resume`` (auto) that takes the newest checkpoint that actually loads.

MMEngine's auto-resume reads the path in ``work_dir/last_checkpoint`` and loads it; a torn or
truncated file there (a kill during a save, a full disk) crashes the resume
(``PytorchStreamReader failed reading zip archive``), and an empty ``last_checkpoint`` starts
the run from scratch. :func:`find_resumable_checkpoint` instead looks at every checkpoint of the
work dir, newest first (by the iteration recorded in it), and returns the first one that
loads and fits: a zip archive whose records load with ``weights_only`` (memory-mapped, so the
tensors are not read), with ``meta.epoch``/``meta.iter``, a ``state_dict`` with exactly the
model's keys and shapes, and an ``optimizer`` state. Each skipped file is named in a warning
with the reason.
"""
import glob
import logging
import os.path as osp
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

from vmae2.checkpoints import SAFE_GLOBALS, trust_from_env

from .atomic_io import is_temporary

__all__ = ['find_resumable_checkpoint', 'checkpoint_problem']


def _peek(path: str) -> dict:
    """The checkpoint's records with its tensors memory-mapped (not read)."""
    trusted = trust_from_env()
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(path, map_location='cpu', weights_only=not trusted, mmap=True)
    except RuntimeError as e:
        if 'mmap' not in str(e):
            raise
        # the legacy (non-zip) format cannot be mapped: read it whole
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(path, map_location='cpu', weights_only=not trusted)


def checkpoint_problem(path: str, model: Optional[nn.Module] = None) -> Tuple[Optional[str],
                                                                                 Optional[dict]]:
    """Why ``path`` cannot be resumed from (``None`` if it can), and its ``meta``.

    Args:
        path: A checkpoint file.
        model: The model to resume; its state-dict keys and shapes must match.
    """
    try:
        ckpt = _peek(path)
    except Exception as e:  # torn, truncated, not a checkpoint, refused by weights_only
        return f'does not load ({type(e).__name__}: {str(e).splitlines()[0][:200]})', None
    if not isinstance(ckpt, dict):
        return f'holds a {type(ckpt).__name__}, not a checkpoint dict', None
    meta = ckpt.get('meta')
    if not isinstance(meta, dict) or not isinstance(meta.get('iter'), int) \
            or not isinstance(meta.get('epoch'), int):
        return 'has no meta.epoch / meta.iter (not a training checkpoint)', None
    state = ckpt.get('state_dict')
    if not isinstance(state, dict):
        return 'has no state_dict', meta
    if 'optimizer' not in ckpt:
        return 'has no optimizer state (a weights-only file)', meta
    if model is not None:
        own = model.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        shapes = [k for k in own if k in state and torch.is_tensor(state[k])
                  and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or extra or shapes:
            return (f'does not fit the model (missing {missing[:3]}, unexpected {extra[:3]}, '
                    f'other shapes {shapes[:3]})'), meta
    return None, meta


def _candidates(work_dir: str) -> List[str]:
    """Checkpoints of ``work_dir``: the one ``last_checkpoint`` names, then every ``*.pth``
    (best-metric copies and temporary files left out)."""
    out = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            out.append(named)
    for path in sorted(glob.glob(osp.join(work_dir, '*.pth'))):
        name = osp.basename(path)
        if not name.startswith('best_') and not is_temporary(name):
            out.append(path)
    seen, unique = set(), []
    for path in out:
        key = osp.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def find_resumable_checkpoint(work_dir: str, model: Optional[nn.Module] = None,
                              logger: str = 'current') -> Optional[str]:
    """The newest checkpoint of ``work_dir`` that can be resumed from, or ``None``.

    Args:
        work_dir: The run's work dir.
        model: The model to resume (checks keys and shapes); ``None`` skips that check.
        logger: Where the warnings go.

    Returns:
        The path with the largest recorded iteration among the loadable ones, or ``None`` when
        there is none (a warning says so if there were checkpoints at all).
    """
    good = []
    candidates = _candidates(work_dir)
    for path in candidates:
        if not osp.isfile(path):
            print_log(f'--resume: skipping {path}: not found (named by last_checkpoint)',
                      logger=logger, level=logging.WARNING)
            continue
        problem, meta = checkpoint_problem(path, model)
        if problem:
            print_log(f'--resume: skipping {path}: it {problem}', logger=logger,
                      level=logging.WARNING)
            continue
        good.append((meta['iter'], meta['epoch'], osp.getmtime(path), path))
    if not good:
        if candidates:
            print_log(f'--resume: no loadable checkpoint in {work_dir}: training starts from '
                      f'scratch', logger=logger, level=logging.WARNING)
        return None
    best = max(good)[-1]
    print_log(f'--resume: resuming from {best}', logger=logger)
    return best
