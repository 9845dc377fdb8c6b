"""Multi-rank training runs for the end-to-end sharded tests: ``tools/dist_train.sh`` on CPU
ranks (gloo), and the overrides that shrink the real fine-tuning config to a few seconds."""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

from tests.helpers import REPO

#: the SyntheticMotion fine-tuning config the multi-rank tests shrink
FINETUNE = osp.join(REPO, 'configs', 'experiments',
                    'data_efficiency_finetune_vit-t-p8_1xb16-30e_synthetic-motion.py')

__all__ = ['FINETUNE', 'free_port', 'dist_train', 'small_finetune_options', 'no_workers',
           'small_pretraining', 'small_finetuning', 'assert_resume_matches', 'run_test_tool']


def free_port() -> int:
    """A TCP port free on this machine now (for ``MASTER_PORT``)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(cfg_path: str, work_dir: str, *extra: str, nprocs: int = 2,
               timeout: int = 600) -> str:
    """``bash tools/dist_train.sh CFG NPROCS --work-dir WORK_DIR EXTRA...`` with no GPU visible
    (so gloo ranks on the CPU); returns stdout + stderr, asserting a zero exit status."""
    env = dict(os.environ, PYTHONPATH=REPO, PORT=str(free_port()), PYTHON=sys.executable,
               CUDA_VISIBLE_DEVICES='')
    out = subprocess.run(['bash', 'tools/dist_train.sh', cfg_path, str(nprocs), '--work-dir',
                          work_dir, *extra], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=timeout)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    return log


def small_finetune_options(data_root: str, max_epochs: int = 1) -> dict:
    """Overrides of the SyntheticMotion fine-tuning config
    (``configs/experiments/data_efficiency_finetune_*``): 2 clips per class, 2 blocks, batch 4,
    a checkpoint and a log line every epoch / iteration, no validation during training.
    The loaders' workers are set to 0 separately (``num_workers=0`` with
    ``persistent_workers=False``)."""
    return {
        'train_dataloader.dataset.root': data_root, 'val_dataloader.dataset.root': data_root,
        'test_dataloader.dataset.root': data_root,
        'train_dataloader.dataset.generator.clips_per_class': 2,
        'val_dataloader.dataset.generator.clips_per_class': 2,
        'test_dataloader.dataset.generator.clips_per_class': 2,
        'model.backbone.arch.num_layers': 2, 'train_dataloader.batch_size': 4,
        'train_cfg.max_epochs': max_epochs, 'train_cfg.val_begin': max_epochs + 1,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
        # no warmup and a 10x lr: steps that move the weights enough for a resumed run that
        # drifted from the uninterrupted one to show in the logged losses
        'param_scheduler.warmup': 0, 'optim_wrapper.optimizer.lr': 5e-3,
    }


def no_workers(cfg) -> None:
    """Data loading in the main process of every rank (no worker processes on 2 cores)."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            cfg[loader].num_workers = 0
            cfg[loader].persistent_workers = False


def small_pretraining(data_root: str, max_epochs: int = 2):
    """The main job's pretraining config shrunk by ``small_options`` (a few steps an epoch), its
    data read in the main process, only the checkpoint hook kept."""
    from mmengine.config import Config

    from tests.tools.test_main_job import MAIN, small_options
    cfg = Config.fromfile(osp.join(REPO, MAIN))
    cfg.merge_from_dict(small_options(data_root, max_epochs=max_epochs))
    no_workers(cfg)
    cfg.custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]
    return cfg


def small_finetuning(data_root: str, max_epochs: int = 2):
    """The SyntheticMotion fine-tuning config shrunk by ``small_finetune_options``, its data read
    in the main process."""
    from mmengine.config import Config
    cfg = Config.fromfile(FINETUNE)
    cfg.merge_from_dict(small_finetune_options(data_root, max_epochs=max_epochs))
    no_workers(cfg)
    return cfg


def assert_resume_matches(cfg_path: str, full: str, resumed: str) -> None:
    """Resume ``cfg_path`` on 2 ranks from the ``epoch_1.pth`` (file or folder) of the finished
    2-epoch run in ``full``, in a fresh ``resumed`` work dir, and check that it logs epoch 2's
    losses of the uninterrupted run, step for step."""
    import pytest

    from tests.helpers.runs import logged_losses
    expected = logged_losses(full)
    os.makedirs(resumed)
    src = osp.join(full, 'epoch_1.pth')
    (shutil.copytree if osp.isdir(src) else shutil.copy2)(src, osp.join(resumed, 'epoch_1.pth'))
    dist_train(cfg_path, resumed, '--resume', osp.join(resumed, 'epoch_1.pth'))
    got = logged_losses(resumed)
    epoch1 = max(expected) // 2  # iterations per epoch
    assert sorted(got) == [s for s in sorted(expected) if s > epoch1]  # epoch 2 only
    for step in sorted(got):
        assert got[step] == pytest.approx(expected[step], rel=1e-6, abs=1e-9), step


def run_test_tool(cfg_path: str, checkpoint: str, work_dir: str) -> str:
    """``python tools/test.py CFG CHECKPOINT --work-dir WORK_DIR`` with no GPU and no process
    group; returns stdout + stderr, asserting a zero exit status."""
    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([sys.executable, 'tools/test.py', cfg_path, checkpoint, '--work-dir',
                          work_dir], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    return log
