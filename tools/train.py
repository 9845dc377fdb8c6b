"""Train a vmae2 model (pretraining, fine-tuning, distillation) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]

``--amp``: fp16 autocast with dynamic loss scaling on a GPU (MMEngine's ``AmpOptimWrapper``),
bf16 autocast on a CPU (vmae2's ``AutocastOptimWrapper``). Distributed runs come through
``tools/dist_train.sh`` / ``tools/slurm_train.sh``; without CUDA they use the gloo backend.

Before anything is built, the config is checked (:mod:`vmae2.engine.startup_checks`: missing
checkpoint files, unknown dataset-source keys, a head whose ``num_classes`` does not fit the
data), each error naming its key. ``--resume`` without a path takes the newest checkpoint of
the work dir that loads and fits the model, skipping torn or foreign ones with a warning
(:mod:`vmae2.engine.resume`).

A config with ``strategy=dict(type='FSDPStrategy' | 'DeepSpeedStrategy', ...)`` trains with
MMEngine's ``FlexibleRunner`` (:mod:`vmae2.engine.strategies`); launch it with
``dist_train.sh`` / ``slurm_train.sh``; ``--resume`` then follows ``last_checkpoint``.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

# projects/<name>/ code is imported by configs as `projects.<name>.<pkg>` (custom_imports)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from vmae2.checkpoints import TRUST_ENV
from vmae2.engine.resume import find_resumable_checkpoint
from vmae2.engine.startup_checks import check_config
from vmae2.engine.strategies import check_strategy
from vmae2.setup_env import register_all_modules
from vmae2.utils import setup_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train a vmae2 model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a path, from the newest checkpoint of the '
        'work dir that loads (torn or foreign files are skipped with a warning)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 on a GPU, bf16 on a CPU')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual total batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN / torch algorithms')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow fully unpickling the checkpoints this run loads (only for '
                        'files you trust: unpickling can run arbitrary code)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=2 model.backbone.arch=s')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision for the device at hand."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in ('OptimWrapper', 'AmpOptimWrapper', 'AutocastOptimWrapper'):
        raise ValueError(f'--amp does not know how to convert optim_wrapper type {wrapper!r}; '
                         'set the mixed-precision wrapper in the config instead.')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')


def merge_args(cfg: Config, args) -> Config:
    """Merge command-line arguments into the config (CLI wins, then the file)."""
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.seed is not None or args.deterministic:
        randomness = cfg.get('randomness', None) or {}
        if args.seed is not None:
            randomness['seed'] = args.seed
        if args.deterministic:
            randomness['deterministic'] = True
        cfg.randomness = randomness
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
    setup_distributed(cfg, args.launcher)
    return cfg


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_config(cfg)  # before any model is built or data read
    if check_strategy(cfg):  # FSDP / DeepSpeed: MMEngine's FlexibleRunner (vmae2's, keeps compile)
        cfg.setdefault('runner_type', 'FlexibleRunner')
    if 'runner_type' in cfg:
        from vmae2.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    if args.resume == 'auto' and not cfg.get('strategy'):  # sharded: the last_checkpoint file
        pick_resume_checkpoint(runner)
    runner.train()


def pick_resume_checkpoint(runner) -> None:
    """Points the runner's auto-resume at the newest checkpoint that loads (MMEngine's would
    take whatever ``last_checkpoint`` names and crash on a torn file)."""
    from mmengine.model import is_model_wrapper
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    path = find_resumable_checkpoint(runner.work_dir, model, logger=runner.logger.instance_name)
    runner._load_from = path
    runner._resume = path is not None


if __name__ == '__main__':
    main()
