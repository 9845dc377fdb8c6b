"""Inference API: mmaction2's two functions, with vmae2's checkpoint loading.

``mmaction.apis.init_recognizer`` works with vmae2 configs (it switches to the config's
``default_scope``) but copies checkpoint keys as they are, so an official VideoMAE V2 or HF
checkpoint would load nothing. :func:`init_recognizer` here loads every layout
:func:`vmae2.checkpoints.load_checkpoint` knows (through the weights-only
``safe_load``), maps a K710 head onto a K400/600/700 model, and refuses a checkpoint that leaves
any weight of the model unloaded. ``inference_recognizer`` is mmaction2's, unchanged: it runs
the config's ``test_pipeline`` (multi-view) and ``model.test_step``.
"""
import copy
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.apis import inference_recognizer
from mmengine.config import Config
from mmengine.registry import init_default_scope

from vmae2.checkpoints import load_checkpoint
from vmae2.registry import MODELS

__all__ = ['init_recognizer', 'inference_recognizer', 'top_k']


def _drop_init_cfg(model_cfg: dict) -> None:
    # pretrained-weight init (a path on the training machine) is replaced by the checkpoint
    for part in ('backbone', 'cls_head'):
        if isinstance(model_cfg.get(part), dict):
            model_cfg[part].pop('init_cfg', None)
    model_cfg.pop('init_cfg', None)


def init_recognizer(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: Union[str, torch.device] = 'cpu',
                    cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the recognizer of ``config`` and load ``checkpoint`` into it.

    Args:
        config: Config file or object.
        checkpoint: Any vmae2 / official / HF checkpoint; None keeps the initial weights.
        device: Where the model goes. Defaults to ``'cpu'``.
        cfg_options: Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode, with ``model.cfg`` set.

    Raises:
        RuntimeError: When the checkpoint leaves weights of the model unloaded.
    """
    cfg = Config.fromfile(str(config)) if isinstance(config, (str, Path)) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    _drop_init_cfg(cfg.model)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        report = load_checkpoint(model, checkpoint)
        missing = [k for k in report.missing_keys if not k.startswith('data_preprocessor')]
        if missing:
            raise RuntimeError(f'{checkpoint} does not fill the model: missing {missing[:8]}'
                               f'{" ..." if len(missing) > 8 else ""}')
    model.cfg = cfg
    return model.to(device).eval()


def top_k(scores: torch.Tensor, labels: Sequence[str], k: int = 5) -> List[Tuple[str, float]]:
    """``k`` best ``(label, score)`` pairs of a ``(num_classes,)`` score vector."""
    if len(labels) != scores.numel():
        raise ValueError(f'{len(labels)} labels for {scores.numel()} classes')
    values, indices = scores.float().topk(min(k, scores.numel()))
    return [(labels[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]
