"""Layer-wise learning-rate decay for ViT fine-tuning (BEiT / MAE / VideoMAE V2 recipe).

Parameter ``p`` of layer ``i`` gets ``lr = base_lr * rate ** (L + 1 - i)`` where ``L`` is the
number of transformer blocks: the patch embedding is layer 0, block ``j`` is layer ``j + 1``,
and everything after the blocks (``fc_norm``, the classification head) is layer ``L + 1``, scale
1. One-dimensional parameters (norms, biases, ``q_bias`` / ``v_bias``) and biases get no weight
decay.

Why not mmaction2's ``LearningRateDecayOptimizerConstructor``: it picks the layer-id function by
the backbone's class name (``'VisionTransformer'`` or ``'MViT'``; our ``VideoViT`` raises
``NotImplementedError``), reads ``module.backbone`` (a distiller's student is one level deeper)
and puts frozen parameters in groups. Here the layer id comes from the backbone itself
(``VideoViT.get_layer_depth``), wherever the backbone sits in the model.
"""
from typing import Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from vmae2.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['LayerDecayOptimWrapperConstructor']


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Build an optimizer with one parameter group per (layer, decay / no decay).

    ``paramwise_cfg`` keys:

    * ``layer_decay_rate`` (float): the decay ``ld``; 1.0 = no layer decay.
    * ``no_decay_names`` (tuple[str]): extra parameter-name suffixes without weight decay (the
      backbone's ``no_weight_decay()`` is added when it has one). Defaults to ``()``.

    Each group carries ``lr``, ``weight_decay``, ``lr_scale`` (the multiplier of the base lr),
    ``layer_id`` and ``param_names``. MMEngine's schedulers then scale every group's lr by the
    same factor over time, so the ratios between layers hold for the whole run (use
    ``eta_min_ratio`` in the cosine so that the final lr keeps them too, as the official code).

    Frozen parameters (``requires_grad=False``, e.g. a distillation teacher) are left out.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        self.layer_decay_rate = float(paramwise_cfg.pop('layer_decay_rate', 1.0))
        self.no_decay_names = tuple(paramwise_cfg.pop('no_decay_names', ()))
        if paramwise_cfg:
            raise KeyError(f'LayerDecayOptimWrapperConstructor: unknown paramwise_cfg keys '
                           f'{sorted(paramwise_cfg)}; it takes layer_decay_rate and '
                           'no_decay_names')
        super().__init__(optim_wrapper_cfg, paramwise_cfg=None)
        # non-empty, so that MMEngine's __call__ goes through add_params below
        self.paramwise_cfg = dict(layer_decay_rate=self.layer_decay_rate,
                                  no_decay_names=self.no_decay_names)

    @staticmethod
    def _find_backbones(module: nn.Module) -> Dict[str, nn.Module]:
        """``{prefix: backbone}`` for every submodule that knows its layer depths."""
        return {(name + '.') if name else '': m
                for name, m in module.named_modules() if hasattr(m, 'get_layer_depth')}

    def layer_id(self, name: str, backbones: Dict[str, nn.Module]) -> Tuple[int, int]:
        """``(layer_id, num_layer_ids)`` of parameter ``name`` of the whole model.

        A parameter outside every backbone (head, distillation projections) is in the last
        layer. With nested matches the longest prefix wins.
        """
        prefix = max((p for p in backbones if name.startswith(p)), key=len, default=None)
        if prefix is None:
            # the last id of any backbone: scale 1; fall back to (0, 1) without a backbone
            totals = [b.get_layer_depth('')[1] for b in backbones.values()]
            total = max(totals) if totals else 1
            return total - 1, total
        return backbones[prefix].get_layer_depth(name[len(prefix):])

    def add_params(self, params: List[dict], module: nn.Module, **kwargs) -> None:
        """Fill ``params`` with the layer-wise groups (overrides MMEngine's recursive walk)."""
        backbones = self._find_backbones(module)
        no_decay = set(self.no_decay_names)
        for prefix, backbone in backbones.items():
            if hasattr(backbone, 'no_weight_decay'):
                no_decay |= {prefix + n for n in backbone.no_weight_decay()}

        groups: Dict[str, dict] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            skip_wd = param.ndim == 1 or name.endswith('.bias') or name.endswith(tuple(no_decay))
            layer_id, total = self.layer_id(name, backbones)
            scale = self.layer_decay_rate ** (total - 1 - layer_id)
            key = f'layer_{layer_id}_{"no_decay" if skip_wd else "decay"}'
            if key not in groups:
                groups[key] = dict(
                    params=[], param_names=[], layer_id=layer_id, lr_scale=scale,
                    lr=self.base_lr * scale)
                if skip_wd or self.base_wd is not None:  # else: the optimizer's default
                    groups[key]['weight_decay'] = 0. if skip_wd else self.base_wd
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        print_log(
            'Layer-wise lr decay {}: '.format(self.layer_decay_rate) + ', '.join(
                f'{k} x{g["lr_scale"]:.3g} ({len(g["params"])} tensors)'
                for k, g in sorted(groups.items(), key=lambda kv: kv[1]['layer_id'])),
            logger='current')
        params.extend(groups.values())
