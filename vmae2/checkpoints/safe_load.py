"""Checkpoint loading that is safe by default.

Every load in vmae2 goes through :func:`safe_load`, which calls ``torch.load(weights_only=True)``:
a checkpoint can hold tensors, numbers, strings and containers, and nothing that runs code when
unpickled. Two additions keep real files loading:

* ``argparse.Namespace`` is allow-listed: the official VideoMAE V2 checkpoints keep the training
  arguments under ``args``; a Namespace only carries attributes.
* vmae2 writes its own checkpoints so that they need nothing else (see
  :class:`vmae2.engine.hooks.SafeCheckpointHook`, which stores MMEngine's message-hub history
  buffers as plain lists and numpy scalars as Python numbers).

Anything else is refused with :class:`UntrustedCheckpointError`, which names the offending
types and the explicit opt-in for a file the user trusts: ``--trust-checkpoint`` on the tools, or
``VMAE2_TRUST_CHECKPOINTS=1`` in the environment, or ``safe_load(..., trust=True)``.

:func:`register_safe_loader` makes MMEngine's ``load_checkpoint`` / ``load_from`` / ``resume``
(which all read local files through ``CheckpointLoader``) use :func:`safe_load` too.
"""
import argparse
import os
import os.path as osp
import pickle
import re
import warnings
from typing import IO, Any, List, Optional, Union

import torch

__all__ = [
    'SAFE_GLOBALS', 'UntrustedCheckpointError', 'safe_load', 'register_safe_loader',
    'trust_from_env', 'TRUST_ENV'
]

#: Types beyond torch's own weights-only allow-list that a checkpoint may contain.
SAFE_GLOBALS: List[type] = [argparse.Namespace]

#: Environment variable holding the opt-in for trusted (fully pickled) checkpoints.
TRUST_ENV = 'VMAE2_TRUST_CHECKPOINTS'


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects beyond plain data and was not marked as trusted."""


def trust_from_env() -> bool:
    """Whether the user opted in to fully unpickling checkpoints (``VMAE2_TRUST_CHECKPOINTS``)."""
    return os.environ.get(TRUST_ENV, '').strip().lower() in ('1', 'true', 'yes', 'all')


def _unsafe_globals(f: Union[str, IO[bytes]]) -> List[str]:
    """List the globals in a checkpoint that the weights-only unpickler would refuse."""
    try:
        if not isinstance(f, str):
            f.seek(0)
        names = torch.serialization.get_unsafe_globals_in_checkpoint(f)
    except Exception:  # legacy (non-zip) format or unreadable: fall back to the error text
        return []
    allowed = {f'{t.__module__}.{t.__qualname__}' for t in SAFE_GLOBALS}
    return [n for n in names if n not in allowed]


def safe_load(f: Union[str, os.PathLike, IO[bytes]],
              map_location: Any = 'cpu',
              trust: Optional[bool] = None) -> Any:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    Args:
        f: a file path or a binary file object.
        map_location: as in :func:`torch.load`.
        trust: load with full unpickling (only for a file you trust). ``None`` reads the
            ``VMAE2_TRUST_CHECKPOINTS`` environment variable.

    Returns:
        Whatever the checkpoint holds (usually a dict).

    Raises:
        FileNotFoundError: the path does not exist.
        UntrustedCheckpointError: the file holds pickled objects other than plain data; the
            message names their types and how to opt in.
    """
    if isinstance(f, os.PathLike):
        f = os.fspath(f)
    if isinstance(f, str):
        f = osp.expanduser(f)
        if not osp.isfile(f):
            raise FileNotFoundError(f'checkpoint {f} can not be found.')
    if trust is None:
        trust = trust_from_env()
    name = f if isinstance(f, str) else getattr(f, 'name', '<file object>')
    if trust:
        warnings.warn(f'Loading {name} with full unpickling (trusted by the user): '
                      'it can run arbitrary code.')
        return torch.load(f, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        types = _unsafe_globals(f) or re.findall(r'GLOBAL (\S+)', str(err))
        listed = ', '.join(sorted(set(types))) or 'unknown (see the error above)'
        raise UntrustedCheckpointError(
            f'Refusing to load {name}: it contains pickled objects that are not plain data '
            f'({listed}), and unpickling them could run arbitrary code. If you trust this file, '
            f'pass --trust-checkpoint to the vmae2 tools, or set {TRUST_ENV}=1, or call '
            f'vmae2.checkpoints.safe_load(path, trust=True); better, re-save it as a plain '
            f'state dict.') from err


def load_from_local_safe(filename: str, map_location: Any) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for local files, through :func:`safe_load`."""
    return safe_load(filename, map_location=map_location)


def register_safe_loader() -> None:
    """Route MMEngine's local checkpoint loading (``load_from``, ``resume``, ``Pretrained``
    init) through :func:`safe_load`. Idempotent."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local_safe)

