"""Test (evaluate) a vmae2 model from a config and a checkpoint.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump FILE] [--cfg-options k=v ...]

The config is checked before anything is built (a missing checkpoint, a head whose
``num_classes`` does not fit the test list...: :mod:`vmae2.engine.startup_checks`). Videos that
cannot be read are scored as misses, counted in ``num_unreadable`` and listed at the end
(``RobustVideoDataset`` + ``RobustAccMetric``). CHECKPOINT may be a sharded FSDP checkpoint
folder (``iter_N.pth/rank*.pth``): its shards are merged into one file first.
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
from vmae2.engine.startup_checks import check_config
from vmae2.engine.strategies import (
    deepspeed_checkpoint_state,
    is_deepspeed_checkpoint,
    is_sharded_checkpoint,
    merge_sharded_checkpoint,
)
from vmae2.setup_env import register_all_modules
from vmae2.utils import setup_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a vmae2 model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation results and logs')
    parser.add_argument('--dump', type=str,
                        help='dump the per-video predictions to this pickle file')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow fully unpickling the checkpoint (only a file you trust)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merged_checkpoint(path: str, work_dir: str) -> str:
    """``path``, or for a sharded FSDP checkpoint folder (``rank*.pth``) or a DeepSpeed ZeRO-1/2
    one (``mp_rank_00_model_states.pt``) the single file it merges into (written to
    ``work_dir``): a training config with a ``strategy`` is tested on one process like any
    other, without a process group or DeepSpeed."""
    if is_sharded_checkpoint(path):
        ckpt, what = merge_sharded_checkpoint(path), 'the shards of'
    elif is_deepspeed_checkpoint(path):
        ckpt, what = deepspeed_checkpoint_state(path), 'the DeepSpeed checkpoint'
    else:
        return path
    out = osp.join(work_dir, osp.basename(osp.normpath(path)).replace('.pth', '') + '_merged.pth')
    os.makedirs(work_dir, exist_ok=True)
    torch.save(ckpt, out)
    print(f'merged {what} {path} into {out}')
    return out


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = merged_checkpoint(args.checkpoint, cfg.work_dir)
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError('--dump must name a .pkl or .pickle file')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = [*cfg.test_evaluator, dump_metric]
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]
    setup_distributed(cfg, args.launcher)
    # before any model is built or data read; `Pretrained` init_cfg is not read by a test
    check_config(cfg, checks=('paths', 'sources', 'classes', 'scoring'))
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
