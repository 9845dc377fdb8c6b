"""Per-op time breakdown of a step (``--profile`` of the benchmarks).

:func:`profile_ops` runs a callable under :mod:`torch.profiler` and sums each ATen op's *self*
time (time in the op minus its children) per step, then groups ops into the kinds that decide a
transformer step's speed: GEMMs, attention kernels, softmax, LayerNorm, GELU, dtype casts and
copies, gathers / concatenation, the optimizer and the remaining elementwise work.
"""
import time
from collections import defaultdict
from typing import Callable, Dict, List, Tuple

import torch
from torch.profiler import ProfilerActivity, profile

from .roofline import format_table

__all__ = ['OP_KINDS', 'op_kind', 'profile_ops', 'format_profile']

#: ``(kind, substrings of ATen op names)``, first match wins.
OP_KINDS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ('attention (SDPA kernel)', ('scaled_dot_product', 'flash_attention', 'efficient_attention')),
    ('GEMM', ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::baddbmm', 'aten::addbmm',
              'convolution', 'aten::_mkldnn', 'aten::mkldnn')),
    ('softmax', ('softmax', 'logsumexp')),
    ('LayerNorm', ('layer_norm', )),
    ('GELU', ('gelu', )),
    ('cast / copy', ('aten::copy_', 'aten::_to_copy', 'aten::clone', 'aten::contiguous')),
    ('gather / scatter / cat', ('aten::index', 'aten::gather', 'aten::scatter', 'aten::cat',
                                'aten::_index_put', 'aten::index_put', 'aten::embedding')),
    ('optimizer', ('adam', 'aten::_foreach', 'Optimizer.')),
)


def op_kind(name: str) -> str:
    """The kind of an op name (``'elementwise / other'`` when none matches)."""
    for kind, keys in OP_KINDS:
        if any(k in name for k in keys):
            return kind
    return 'elementwise / other'


def profile_ops(fn: Callable[[], object], steps: int = 2, warmup: int = 1,
                device='cpu') -> Tuple[Dict[str, float], float]:
    """Self time of every op per step of ``fn``.

    Args:
        fn: One step.
        steps (int): Profiled steps (times are divided by it).
        warmup (int): Unprofiled steps first.
        device: CUDA adds the device timeline (self CUDA time is reported then).

    Returns:
        tuple: ``{op name: seconds per step}`` and the wall time per step (s) under the
        profiler.
    """
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        wall = (time.perf_counter() - t0) / steps
    per_op: Dict[str, float] = defaultdict(float)
    for evt in prof.key_averages():
        if device.type == 'cuda':
            t = getattr(evt, 'self_device_time_total', getattr(evt, 'self_cuda_time_total', 0))
        else:
            t = evt.self_cpu_time_total
        if t > 0:
            per_op[evt.key] += t / 1e6 / steps
    return dict(per_op), wall


def format_profile(per_op: Dict[str, float], wall: float, top: int = 15) -> str:
    """Two tables: time per kind of op, and the ``top`` ops by self time (s/step, share)."""
    kinds: Dict[str, float] = defaultdict(float)
    for name, t in per_op.items():
        kinds[op_kind(name)] += t
    total = sum(per_op.values()) or 1.0
    rows: List[list] = [[k, f'{t:.3f}', f'{t / total:.1%}']
                        for k, t in sorted(kinds.items(), key=lambda kv: -kv[1])]
    out = [f'profiled step: {wall:.3f} s wall, {total:.3f} s summed op self time',
           format_table(['kind', 's/step', 'share'], rows), '']
    ops = sorted(per_op.items(), key=lambda kv: -kv[1])[:top]
    out.append(format_table(['op', 'kind', 's/step', 'share'],
                            [[n, op_kind(n), f'{t:.3f}', f'{t / total:.1%}'] for n, t in ops]))
    return '\n'.join(out)
