"""DeepSpeed ZeRO through MMEngine's ``FlexibleRunner``, on current DeepSpeed.

MMEngine 0.10.7's ``DeepSpeedStrategy.__init__`` registers DeepSpeed's optimizers with
``from deepspeed.runtime.fp16.onebit import OnebitAdam, ...``; DeepSpeed 0.19.7 removed that
module, so the strategy cannot even be built. Rather than pin an old DeepSpeed, this module
replaces MMEngine's module-level ``register_deepspeed_optimizers`` (the strategy looks it up
at call time) by one that registers what the installed DeepSpeed has and skips the rest.

:class:`DeepSpeedOptimWrapper` accepts the ``clip_grad=None`` every vmae2 schedule carries
(MMEngine's takes the optimizer only); gradient clipping under DeepSpeed is the strategy's
``gradient_clipping`` and a non-empty ``clip_grad`` fails with that advice.

Without DeepSpeed installed nothing here imports it; building the strategy then fails at
start (:func:`vmae2.engine.strategies.check_strategy`) with the command to install it.
"""
import importlib
from typing import List, Optional

from mmengine._strategy import deepspeed as mmengine_deepspeed
from mmengine._strategy.deepspeed import DeepSpeedOptimWrapper as MMEngineDeepSpeedOptimWrapper
from mmengine.registry import OPTIMIZERS

from vmae2.registry import OPTIM_WRAPPERS

__all__ = ['register_deepspeed_optimizers', 'DeepSpeedOptimWrapper']

#: (module, class) of the DeepSpeed optimizers MMEngine registers; some are gone in 0.19.7+.
_DEEPSPEED_OPTIMIZERS = (
    ('deepspeed.ops.adam', 'DeepSpeedCPUAdam'),
    ('deepspeed.ops.adam', 'FusedAdam'),
    ('deepspeed.ops.lamb', 'FusedLamb'),
    ('deepspeed.runtime.fp16.onebit', 'OnebitAdam'),  # removed in DeepSpeed 0.19.7
    ('deepspeed.runtime.fp16.onebit', 'OnebitLamb'),
    ('deepspeed.runtime.fp16.onebit', 'ZeroOneAdam'),
)


def register_deepspeed_optimizers() -> List[str]:
    """Register the DeepSpeed optimizers that the installed version has (idempotent)."""
    names = []
    for module, name in _DEEPSPEED_OPTIMIZERS:
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if OPTIMIZERS.get(name) is None:
            OPTIMIZERS.register_module(module=cls)
        names.append(name)
    return names


# the shim: MMEngine's DeepSpeedStrategy.__init__ calls the module-level function by name
mmengine_deepspeed.register_deepspeed_optimizers = register_deepspeed_optimizers


@OPTIM_WRAPPERS.register_module()
class DeepSpeedOptimWrapper(MMEngineDeepSpeedOptimWrapper):
    """MMEngine's wrapper; takes (and refuses a non-empty) ``clip_grad``, which DeepSpeed
    replaces with ``strategy.gradient_clipping``."""

    def __init__(self, optimizer, clip_grad: Optional[dict] = None):
        if clip_grad:
            raise ValueError(
                f'optim_wrapper.clip_grad={clip_grad} does nothing under DeepSpeed: set '
                f'strategy.gradient_clipping={clip_grad.get("max_norm")} instead')
        super().__init__(optimizer)
