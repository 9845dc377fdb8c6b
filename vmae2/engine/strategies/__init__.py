"""Sharded-training strategies for MMEngine's ``FlexibleRunner`` (FSDP; DeepSpeed ZeRO).

``strategy=dict(type='FSDPStrategy', ...)`` in a config makes ``tools/train.py`` build
:class:`FlexibleRunner` with vmae2's :class:`FSDPStrategy`; see the README, "Scaling up".
"""
from .checks import SHARDED_STRATEGIES, StrategyConfigError, check_strategy
from .deepspeed import (
                        DeepSpeedOptimWrapper,
                        DeepSpeedStrategy,
                        deepspeed_checkpoint_state,
                        is_deepspeed_checkpoint,
                        register_deepspeed_optimizers,
)
from .fsdp import FSDPStrategy
from .optim import named_groups, rebuild_on_wrapped, record_names
from .runner import FlexibleRunner
from .shards import clean_name, is_sharded_checkpoint, merge_sharded_checkpoint

__all__ = [
    'FSDPStrategy', 'FlexibleRunner', 'DeepSpeedOptimWrapper', 'DeepSpeedStrategy',
    'register_deepspeed_optimizers', 'is_deepspeed_checkpoint', 'deepspeed_checkpoint_state',
    'check_strategy', 'StrategyConfigError', 'SHARDED_STRATEGIES', 'named_groups',
    'rebuild_on_wrapped', 'record_names', 'clean_name', 'is_sharded_checkpoint',
    'merge_sharded_checkpoint'
]
