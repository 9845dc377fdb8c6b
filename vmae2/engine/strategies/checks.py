"""Start-up checks of a ``strategy`` config: fail before any model is built, saying what to change.

Called by ``tools/train.py`` after the command line is merged (``cfg.launcher`` is set).
"""
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config

from vmae2.checkpoints import safe_load

from .deepspeed import deepspeed_world_size, is_deepspeed_checkpoint
from .shards import is_sharded_checkpoint, rank_file

__all__ = ['check_strategy', 'StrategyConfigError', 'SHARDED_STRATEGIES']

#: Strategies that shard the model over a process group.
SHARDED_STRATEGIES = ('FSDPStrategy', 'DeepSpeedStrategy')


class StrategyConfigError(ValueError):
    """A ``strategy`` that cannot run as configured; the message says what to change."""


def _world_size() -> int:
    return int(os.environ.get('WORLD_SIZE', os.environ.get('SLURM_NTASKS', '1')))


def check_strategy(cfg: Config) -> Optional[str]:
    """Check ``cfg.strategy`` against the launch; returns the strategy type (None without one).

    Raises:
        StrategyConfigError: no process group for a sharded strategy; DeepSpeed not
            installed; ``use_orig_params=False``; a sharded checkpoint to resume that was saved
            on another number of ranks.
    """
    strategy = cfg.get('strategy')
    if not strategy:
        return None
    kind = strategy.get('type', '')
    kind = kind if isinstance(kind, str) else kind.__name__
    kind = kind.split('.')[-1]
    if kind in SHARDED_STRATEGIES and cfg.get('launcher', 'none') == 'none':
        raise StrategyConfigError(
            f'strategy {kind} shards the model over a process group, but this run has none '
            '(--launcher none). Launch with `bash tools/dist_train.sh CONFIG NUM_PROCS` or '
            '`tools/slurm_train.sh` (or pass --launcher pytorch under torchrun); for one '
            'process drop the strategy: --cfg-options strategy=None')
    if kind == 'DeepSpeedStrategy':
        try:
            import deepspeed  # noqa: F401
        except ImportError as e:
            raise StrategyConfigError(
                f'strategy DeepSpeedStrategy needs deepspeed ({e}); `pip install '
                'deepspeed==0.19.8`, or use strategy=dict(type="FSDPStrategy")') from e
    wrapper = strategy.get('model_wrapper') or {}
    if kind == 'FSDPStrategy' and wrapper.get('use_orig_params', True) is False:
        raise StrategyConfigError(
            'strategy.model_wrapper.use_orig_params=False: vmae2 keys its optimizer groups '
            '(layer decay, no weight decay) by parameter; remove the setting')
    _check_resume_world_size(cfg)
    return kind


def _check_resume_world_size(cfg: Config) -> None:
    path = cfg.get('load_from') if cfg.get('resume') else None
    if isinstance(cfg.get('resume'), str):
        path = cfg.resume
    if path and is_deepspeed_checkpoint(path):
        saved = deepspeed_world_size(path)
        if saved != _world_size():
            raise StrategyConfigError(
                f'{osp.basename(path)} is a DeepSpeed checkpoint of {saved} ranks, this run has '
                f'{_world_size()}: resume it on {saved} ranks (DeepSpeed cannot repartition ZeRO '
                'optimizer state), or evaluate it with tools/test.py (any number of processes), '
                'which writes its weights as one *_merged.pth file a new run can start from '
                "(init_cfg=dict(type='Pretrained', checkpoint=...))")
        return
    if not path or not is_sharded_checkpoint(path):
        return
    saved = safe_load(rank_file(path, 0), map_location='cpu')['meta']['fsdp_shard']['world_size']
    if saved != _world_size():
        raise StrategyConfigError(
            f'{osp.basename(path)} is a sharded checkpoint of {saved} ranks, this run has '
            f'{_world_size()}: resume it on {saved} ranks, or load its merged weights '
            '(tools/test.py reads the folder) and train with strategy.state_dict_cfg="full", '
            'which resumes on any number of ranks')
