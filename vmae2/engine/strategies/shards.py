"""vmae2's sharded FSDP checkpoint: one plain-tensor file per rank, mergeable on one process.

MMEngine's ``state_dict_cfg='local'`` stores ``ShardedTensor`` objects, which
``torch.load(weights_only=True)`` refuses and which cannot be rebuilt without the process
group that wrote them. Here each rank stores what it owns as ordinary tensors:

* ``state_dict``: ``{name: 1-D tensor}``, the slice of the flattened original parameter that
  lies in this rank's shard of its FSDP unit (``use_orig_params=True`` exposes exactly these
  views; a parameter with no element on this rank is absent); buffers in full;
* ``optimizer``: the rank's own ``optimizer.state_dict()`` (its moments have the shapes of
  those slices, so it loads back as is on the same world size);
* ``meta['fsdp_shard']``: ``rank``, ``world_size`` and, per parameter, ``[shape, start, end]``
  (the slice is ``full.flatten()[start:end + 1]``).

A folder ``iter_N.pth/`` holds ``rank0.pth`` ... ``rank{W-1}.pth``. It resumes on ``W`` ranks;
:func:`merge_sharded_checkpoint` rebuilds the full model state dict from all the files, for
evaluation on one process (``tools/test.py`` accepts the folder) or for resuming elsewhere.
"""
import glob
import math
import os.path as osp
import re
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

from vmae2.checkpoints import safe_load

__all__ = ['clean_name', 'local_shard_state', 'load_local_shard_state', 'is_sharded_checkpoint',
           'rank_file', 'merge_sharded_checkpoint']

#: Prefixes that FSDP, activation checkpointing and ``torch.compile`` insert into names.
_WRAPPER_PREFIXES = ('_fsdp_wrapped_module.', '_checkpoint_wrapped_module.', '_orig_mod.')


def clean_name(name: str) -> str:
    """The parameter's name in the unwrapped model (``blocks.0.attn.qkv.weight``)."""
    for prefix in _WRAPPER_PREFIXES:
        name = name.replace(prefix, '')
    return name


def _shard_infos(model: nn.Module) -> Dict[int, Tuple[List[int], int, int]]:
    """``{id(param): (full shape, start, end)}`` for every original parameter with elements in
    this rank's shard (FSDP's per-unit flat parameters, ``use_orig_params=True``)."""
    out = {}
    for unit in FSDP.fsdp_modules(model):
        handle = getattr(unit, '_handle', None)
        if handle is None:  # a unit without parameters of its own
            continue
        flat = handle.flat_param
        if flat._params is None:
            raise RuntimeError('vmae2 sharded checkpoints need use_orig_params=True in '
                               'strategy.model_wrapper')
        for param, info, shape in zip(flat._params, flat._shard_param_infos, flat._shapes):
            if info.in_shard:
                out[id(param)] = (list(shape), int(info.intra_param_start_idx),
                                  int(info.intra_param_end_idx))
    return out


def local_shard_state(model: nn.Module) -> Tuple[Dict[str, torch.Tensor], dict]:
    """This rank's parameter slices and full buffers, and their layout (see the module doc).

    Args:
        model: the FSDP-wrapped model (``use_orig_params=True``), outside forward/backward.

    Returns:
        ``(tensors, layout)``: ``{name: tensor}`` (parameters as 1-D slices on the CPU) and
        ``{name: [shape, start, end]}`` for the parameters.
    """
    infos = _shard_infos(model)
    tensors, layout = {}, {}
    for name, param in model.named_parameters():
        info = infos.get(id(param))
        if info is None:
            continue
        shape, start, end = info
        if param.numel() != end - start + 1:
            raise RuntimeError(f'{name}: local view of {param.numel()} elements, FSDP records '
                               f'{end - start + 1}; save inside a training step?')
        name = clean_name(name)
        tensors[name] = param.detach().reshape(-1).cpu().clone()
        layout[name] = [shape, start, end]
    for name, buf in _persistent_buffers(model):
        tensors[clean_name(name)] = buf.detach().cpu().clone()
    return tensors, layout


def _persistent_buffers(model: nn.Module):
    """``(name, buffer)`` of the buffers a ``state_dict`` holds (not the non-persistent ones,
    e.g. the data preprocessor's mean / std)."""
    for prefix, module in model.named_modules():
        for name, buf in module._buffers.items():
            if buf is not None and name not in module._non_persistent_buffers_set:
                yield (f'{prefix}.{name}' if prefix else name), buf


@torch.no_grad()
def load_local_shard_state(model: nn.Module, tensors: Dict[str, torch.Tensor],
                           layout: dict) -> None:
    """Copy a rank file's slices back into the wrapped model (same world size as saved).

    Raises:
        ValueError: a slice is missing or has another extent than this rank's shard (the
            model or the FSDP wrapping differ from the run that saved it).
    """
    infos = _shard_infos(model)
    for name, param in model.named_parameters():
        info = infos.get(id(param))
        if info is None:
            continue
        key = clean_name(name)
        if key not in tensors or layout.get(key) != list(info):
            raise ValueError(
                f'sharded checkpoint does not fit {key}: saved {layout.get(key)}, this rank '
                f'holds {list(info)} (the model or its FSDP wrap_modules differ)')
        param.copy_(tensors[key].view_as(param))
    for name, buf in _persistent_buffers(model):
        key = clean_name(name)
        if key in tensors:
            buf.copy_(tensors[key])


def rank_file(folder: str, rank: int) -> str:
    return osp.join(folder, f'rank{rank}.pth')


def is_sharded_checkpoint(path: str) -> bool:
    """Whether ``path`` is a folder of per-rank files written by this module."""
    return osp.isdir(path) and osp.isfile(rank_file(path, 0))


def merge_sharded_checkpoint(folder: str) -> dict:
    """Full checkpoint (``state_dict``, ``meta``) from the rank files of ``folder``.

    Every file is read with :func:`vmae2.checkpoints.safe_load` (weights only). The result is
    the layout MMEngine's runner saves, so it loads into a single-process model.

    Raises:
        FileNotFoundError: a rank file is missing.
        ValueError: the slices of a parameter do not cover it exactly once.
    """
    first = safe_load(rank_file(folder, 0), map_location='cpu')
    world = first['meta']['fsdp_shard']['world_size']
    files = sorted(glob.glob(osp.join(folder, 'rank*.pth')),
                   key=lambda f: int(re.findall(r'rank(\d+)', osp.basename(f))[0]))
    if len(files) != world:
        raise FileNotFoundError(f'{folder}: {len(files)} rank files, the run had {world} ranks')
    pieces: Dict[str, list] = {}
    shapes: Dict[str, List[int]] = {}
    state: Dict[str, torch.Tensor] = {}
    for rank in range(world):
        ckpt = first if rank == 0 else safe_load(rank_file(folder, rank), map_location='cpu')
        layout = ckpt['meta']['fsdp_shard']['layout']
        for name, tensor in ckpt['state_dict'].items():
            if name in layout:
                shape, start, end = layout[name]
                shapes[name] = shape
                pieces.setdefault(name, []).append((start, end, tensor))
            elif rank == 0:
                state[name] = tensor  # a buffer: the same on every rank
    for name, parts in pieces.items():
        numel = math.prod(shapes[name])
        full = torch.empty(numel, dtype=parts[0][2].dtype)
        covered = 0
        for start, end, tensor in sorted(parts, key=lambda p: p[0]):
            if start != covered:
                raise ValueError(f'{folder}: {name} slices leave a gap or overlap at {start}')
            full[start:end + 1] = tensor
            covered = end + 1
        if covered != numel:
            raise ValueError(f'{folder}: {name} covers {covered} of {numel} elements')
        state[name] = full.view(shapes[name])
    meta = dict(first['meta'])
    meta.pop('fsdp_shard')
    return dict(state_dict=state, meta=meta)


def _param_names(model: nn.Module) -> Dict[int, str]:
    return {id(p): clean_name(n) for n, p in model.named_parameters()}


def full_optim_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer state of the whole model, keyed by parameter name, on rank 0 (a collective;
    other ranks get ``{}``).

    ``{'state': {name: {'step': t, 'exp_avg': full tensor, ...}}, 'param_groups': [{lr...,
    'param_names': [...]}]}``: plain tensors, loadable on any world size
    (:func:`load_full_optim_state`). FSDP's own ``optim_state_dict`` round trip corrupts
    ``exp_avg`` on a CPU / gloo group (torch 2.14, measured), hence this gather of the slices.
    """
    names, infos = _param_names(model), _shard_infos(model)
    local = {}
    for group in optimizer.param_groups:
        for p in group['params']:
            if id(p) in infos and optimizer.state.get(p):
                local[names[id(p)]] = (infos[id(p)], {
                    k: v.detach().cpu().clone() if torch.is_tensor(v) else v
                    for k, v in optimizer.state[p].items()})
    gathered = [None] * torch.distributed.get_world_size() if torch.distributed.get_rank() == 0 \
        else None
    torch.distributed.gather_object(local, gathered, dst=0)
    if torch.distributed.get_rank() != 0:
        return {}
    state: Dict[str, dict] = {}
    for rank_state in gathered:
        for name, ((shape, start, end), values) in rank_state.items():
            out = state.setdefault(name, {})
            for key, v in values.items():
                if torch.is_tensor(v) and v.dim() == 1 and v.numel() == end - start + 1:
                    full = out.setdefault(key, torch.zeros(math.prod(shape), dtype=v.dtype))
                    full[start:end + 1] = v
                else:  # 'step' and other per-parameter scalars: the same on every rank
                    out[key] = v
    for name, values in state.items():
        shape = next(info[0] for r in gathered for n, (info, _) in r.items() if n == name)
        for key, v in values.items():
            if torch.is_tensor(v) and v.dim() == 1 and v.numel() == math.prod(shape):
                values[key] = v.view(shape)
    groups = [{k: v for k, v in g.items() if k != 'params'} | {
        'param_names': [names[id(p)] for p in g['params']]} for g in optimizer.param_groups]
    return dict(state=state, param_groups=groups)


@torch.no_grad()
def load_full_optim_state(model: nn.Module, optimizer: torch.optim.Optimizer,
                          osd: dict) -> None:
    """Load :func:`full_optim_state` (read on every rank) into this rank's slices.

    Raises:
        ValueError: the groups differ in number or parameter names from the saved ones.
    """
    names, infos = _param_names(model), _shard_infos(model)
    if len(osd['param_groups']) != len(optimizer.param_groups):
        raise ValueError(f'the checkpoint has {len(osd["param_groups"])} optimizer groups, the '
                         f'optimizer {len(optimizer.param_groups)}')
    for group, saved in zip(optimizer.param_groups, osd['param_groups']):
        if saved['param_names'] != [names[id(p)] for p in group['params']]:
            raise ValueError('the optimizer groups hold other parameters than the checkpoint')
        group.update({k: v for k, v in saved.items() if k not in ('params', 'param_names')})
        for p in group['params']:
            values = osd['state'].get(names[id(p)])
            if values is None or id(p) not in infos:
                continue
            _, start, end = infos[id(p)]
            optimizer.state[p] = {
                k: (v.reshape(-1)[start:end + 1].to(p.device).clone()
                    if torch.is_tensor(v) and v.dim() > 0 else
                    v.clone() if torch.is_tensor(v) else v)
                for k, v in values.items()}
