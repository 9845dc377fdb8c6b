"""Keep runner checkpoints loadable with ``torch.load(weights_only=True)``.

MMEngine's ``Runner.save_checkpoint`` stores the message hub's ``HistoryBuffer`` objects (and,
through them, numpy arrays and scalars), which the weights-only unpickler refuses. Rather than
switching that protection off, this hook rewrites those entries as plain data just before the
checkpoint is written and rebuilds them right after a checkpoint is read, before the runner hands
the message-hub state to ``MessageHub.load_state_dict`` on ``--resume``.

It also records the backbone's ``pos_embed_type`` in ``meta`` and refuses a checkpoint that
records another one (the position table is not part of the weights; see
:mod:`vmae2.models.layers.pos_embed`).
"""
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import is_model_wrapper

from vmae2.checkpoints import check_pos_embed_type, model_pos_embed_type
from vmae2.registry import HOOKS

_BUFFER_TAG = '__history_buffer__'


def to_plain(obj: Any) -> Any:
    """Recursively replace numpy values by Python numbers / tensors (allowed by weights_only)."""
    if isinstance(obj, HistoryBuffer):
        logs, counts = obj.data
        return {
            _BUFFER_TAG: True,
            'log_history': [float(x) for x in np.asarray(logs).tolist()],
            'count_history': [int(x) for x in np.asarray(counts).tolist()],
            'max_length': int(obj.max_length),
        }
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, dict):
        return type(obj)((k, to_plain(v)) for k, v in obj.items()) if type(obj) is not dict \
            else {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, '_fields'):
        return tuple(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Inverse of :func:`to_plain` for history buffers (other values stay plain)."""
    if isinstance(obj, dict):
        if obj.get(_BUFFER_TAG, False):
            return HistoryBuffer(obj['log_history'], obj['count_history'], obj['max_length'])
        return type(obj)((k, from_plain(v)) for k, v in obj.items()) if type(obj) is not dict \
            else {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_plain(v) for v in obj]
    return obj


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Store the message hub and metadata of checkpoints as plain data (and restore them)."""

    priority = 'VERY_HIGH'

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        kind = model_pos_embed_type(self._model(runner))
        if kind is not None:
            checkpoint.setdefault('meta', {})['pos_embed_type'] = kind
        for key in ('message_hub', 'meta'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        check_pos_embed_type(self._model(runner), checkpoint)
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = from_plain(checkpoint['message_hub'])
