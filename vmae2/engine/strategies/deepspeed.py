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
import os.path as osp
from typing import List, Optional

import torch
from mmengine._strategy import deepspeed as mmengine_deepspeed
from mmengine._strategy.deepspeed import DeepSpeedOptimWrapper as MMEngineDeepSpeedOptimWrapper
from mmengine._strategy.deepspeed import DeepSpeedStrategy as MMEngineDeepSpeedStrategy
from mmengine.registry import OPTIMIZERS

from vmae2.checkpoints import safe_load
from vmae2.registry import OPTIM_WRAPPERS, STRATEGIES

__all__ = ['register_deepspeed_optimizers', 'DeepSpeedOptimWrapper', 'DeepSpeedStrategy',
           'is_deepspeed_checkpoint', 'deepspeed_checkpoint_state',
           'deepspeed_world_size']

#: The file of a DeepSpeed checkpoint folder that holds the (whole, under ZeRO-1/2) module
#: weights and the runner's client state; the optimizer partitions lie beside it.
MODEL_STATES = 'mp_rank_00_model_states.pt'

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


@STRATEGIES.register_module()
class DeepSpeedStrategy(MMEngineDeepSpeedStrategy):
    """MMEngine's DeepSpeed strategy with what MMEngine 0.10.7 + DeepSpeed 0.19.8 break, fixed.

    * ``deepspeed.initialize`` returns a ``DeepSpeedZeroOptimizer`` that MMEngine puts in
      ``optim_wrapper.optimizer``; it is no ``torch.optim.Optimizer`` and has no ``defaults``,
      which MMEngine's and vmae2's schedulers read for the base lr (measured: AttributeError
      building ``WarmupCosineLR``). It gets the wrapped optimizer's ``defaults``.
    * ``save_checkpoint`` / ``resume`` / ``load_checkpoint`` take a ``callback`` and ignore it,
      so no ``before_save_checkpoint`` / ``after_load_checkpoint`` hook runs (vmae2's
      ``SafeCheckpointHook`` stores the message hub as plain data there): it is called here.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # DeepSpeed stores its config (``ds_config``) in every checkpoint: as plain dicts, so
        # that the file loads weights-only (a ConfigDict would not)
        self.config = _plain(self.config)

    def _wrap_model(self, model):
        wrapper = super()._wrap_model(model)
        optimizer = getattr(getattr(self, 'optim_wrapper', None), 'optimizer', None)
        if optimizer is not None and not hasattr(optimizer, 'defaults'):
            optimizer.defaults = optimizer.optimizer.defaults
        # DeepSpeed reads its files with torch.load(weights_only=False); vmae2 reads every
        # checkpoint weights-only (vmae2.checkpoints.safe_load), its own sharded ones too
        wrapper.model.checkpoint_engine.load = _safe_engine_load
        return wrapper

    def save_checkpoint(self, filename, *, save_optimizer=True, save_param_scheduler=True,
                        extra_ckpt=None, callback=None):
        extra_ckpt = dict(extra_ckpt or {})
        if callback is not None:
            callback(extra_ckpt)
        super().save_checkpoint(filename, save_optimizer=save_optimizer,
                                save_param_scheduler=save_param_scheduler, extra_ckpt=extra_ckpt)

    def resume(self, filename, *, callback=None, **kwargs):
        return self._after_load(super().resume(filename, **kwargs), callback)

    def load_checkpoint(self, filename, *, callback=None, **kwargs):
        return self._after_load(super().load_checkpoint(filename, **kwargs), callback)

    def _after_load(self, ckpt: dict, callback) -> dict:
        """Run the ``after_load_checkpoint`` hooks on the checkpoint in MMEngine's layout: the
        engine has loaded the weights already, and hooks that read ``state_dict`` (vmae2's
        ``OfficialCheckpointHook``) see them there, fitting the model."""
        ckpt.setdefault('state_dict', self.model.model.module_state_dict())
        if callback is not None:
            callback(ckpt)
        return ckpt


def _plain(obj):
    """``obj`` with every mapping a plain ``dict`` and every sequence a ``list``."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _deepspeed_data_types() -> list:
    """DeepSpeed's own data records in its optimizer partitions (the loss scaler's numbers,
    the ZeRO stage enum, fragment offsets): attributes only, allow-listed for its files alone."""
    from deepspeed.runtime.fp16.loss_scaler import LossScaler
    from deepspeed.runtime.zero.config import ZeroStageEnum
    from deepspeed.utils.tensor_fragment import fragment_address
    return [LossScaler, ZeroStageEnum, fragment_address]


def _safe_engine_load(path: str, map_location=None):
    """DeepSpeed's ``TorchCheckpointEngine.load`` through :func:`safe_load` (weights only,
    plus DeepSpeed's data records)."""
    with torch.serialization.safe_globals(_deepspeed_data_types()):
        return safe_load(path, map_location=map_location or 'cpu')


def deepspeed_world_size(folder: str) -> int:
    """The data-parallel world size that wrote a ZeRO checkpoint folder."""
    return int(safe_load(osp.join(folder, MODEL_STATES), map_location='cpu')['dp_world_size'])


def is_deepspeed_checkpoint(path: str) -> bool:
    """Whether ``path`` is a checkpoint folder written by :class:`DeepSpeedStrategy`
    (``epoch_N.pth/`` with ``mp_rank_00_model_states.pt`` and the optimizer partitions)."""
    return osp.isdir(path) and osp.isfile(osp.join(path, MODEL_STATES))


def deepspeed_checkpoint_state(folder: str) -> dict:
    """``dict(state_dict, meta)`` of a ZeRO-1/2 checkpoint folder, for one process without
    DeepSpeed (``tools/test.py`` accepts the folder), read weights-only.

    The weights are the engine's module weights: whole under ZeRO-1/2, in the engine's dtype
    (bf16 with ``bf16.enabled``; the fp32 masters live in the optimizer partitions). A ZeRO-3
    folder holds only partitions and is refused with what to do.
    """
    ckpt = safe_load(osp.join(folder, MODEL_STATES), map_location='cpu')
    module = ckpt.get('module')
    if not module:
        raise ValueError(
            f'{folder} holds no whole module weights (ZeRO-3 partitions them): save with '
            f'strategy.zero_optimization.gather_16bit_weights_on_model_save=True, or merge the '
            f'partitions with DeepSpeed\'s zero_to_fp32.py')
    return dict(state_dict=dict(module), meta=ckpt.get('meta', {}))
