"""Distributed set-up that also works without CUDA.

MMEngine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` and its default DDP wrapper passes
``device_ids=[LOCAL_RANK]``; both fail on a machine without a GPU. Here: with CUDA we defer to
MMEngine (NCCL); without it we initialise the process group with ``gloo`` ourselves (the runner
then sees an initialised group and skips its own ``init_dist``) and wrap the model with
``device_ids=None``.
"""
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def _slurm_env_to_torch_env(port: int = 29500) -> None:
    """Fill the env:// variables from Slurm's (as mmengine's slurm init does)."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', str(port))
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ['RANK'] = str(proc_id)


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` (and, on a CPU, the process group) for ``launcher``.

    Args:
        cfg: the run's config; on a CPU its ``env_cfg.dist_cfg.backend`` becomes ``gloo`` and a
            ``model_wrapper_cfg`` with ``device_ids=None`` is set.
        launcher: ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None  # CPU DDP
    cfg.model_wrapper_cfg = wrapper
    if torch_dist.is_available() and not torch_dist.is_initialized():
        if launcher == 'slurm':
            _slurm_env_to_torch_env()
        elif launcher == 'mpi':
            os.environ.setdefault('RANK', os.environ.get('OMPI_COMM_WORLD_RANK', '0'))
            os.environ.setdefault('WORLD_SIZE', os.environ.get('OMPI_COMM_WORLD_SIZE', '1'))
            os.environ.setdefault('LOCAL_RANK', os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))
            os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
            os.environ.setdefault('MASTER_PORT', '29500')
        torch_dist.init_process_group(backend='gloo')
