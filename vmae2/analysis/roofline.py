"""Roofline of a training step: the machine's GEMM rate, measured in the same run, against the
step's arithmetic counted by :func:`~vmae2.analysis.flops.count_flops`.

Conventions (fixed, so that a figure cannot drift with the method):

* **roofline** of a dtype = the best of ``rounds`` x ``number`` back-to-back runs of a
  ``(1568 x 768) @ (768 x 3072)`` matmul in that dtype (a ViT-B MLP GEMM of one 16x224² clip),
  in GFLOP/s (``2 * m * k * n`` FLOPs per matmul);
* **step FLOPs** = ``2 * passes * MACs`` with ``passes = 3`` for a training step (forward and a
  backward twice as long) and 1 for inference, MACs = the forward multiply-adds of the batch
  (attention matmuls included, elementwise ops not, as the paper counts);
* **fraction** = step FLOPs / step time / roofline.

Every ratio a benchmark prints comes from one process, measured interleaved with the variants.
"""
import contextlib
import os
import resource
import statistics
import threading
import time
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import torch

__all__ = ['GEMM_SHAPE', 'gemm_burst', 'gemm_rate', 'step_gflop', 'RssSampler', 'time_interleaved',
           'format_table', 'roofline_table', 'native_bf16', 'machine_line']

#: ``(m, k, n)`` of the reference matmul.
GEMM_SHAPE = (1568, 768, 3072)


def native_bf16(device='cpu') -> bool:
    """Whether bf16 matmuls run on bf16 hardware: on a CPU, oneDNN's bf16 kernels (AVX512-BF16 /
    AMX; without them ATen falls back to reference loops, 10-100x slower than fp32, and a bf16
    roofline or step time measures those loops, not the machine); on CUDA, ``is_bf16_supported``.
    """
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.is_bf16_supported()
    if device.type != 'cpu':
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def machine_line(device='cpu') -> str:
    """One line that says which machine a figure comes from (CPU model and vector ISA)."""
    device = torch.device(device)
    if device.type == 'cuda':
        return f'device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}'
    model = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            model = next((ln.split(':', 1)[1].strip() for ln in f if ln.startswith('model name')),
                         model)
    except OSError:
        pass
    return (f'device: {model}, {os.cpu_count()} CPUs, ISA {torch.backends.cpu.get_cpu_capability()}'
            f', native bf16 {"yes" if native_bf16(device) else "no"}, torch {torch.__version__}')


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def gemm_burst(dtype: torch.dtype, device='cpu', shape: Sequence[int] = GEMM_SHAPE,
               number: int = 10) -> Tuple[Callable[[], None], float]:
    """A callable that runs ``number`` reference matmuls ``(m, k) @ (k, n)`` back to back, and
    their GFLOP (``2 * m * k * n * number / 1e9``). Its operands are made (and its output
    page-faulted in) once, here."""
    device = torch.device(device)
    m, k, n = shape
    g = torch.Generator(device='cpu').manual_seed(0)
    a = torch.randn(m, k, generator=g).to(device, dtype)
    b = torch.randn(k, n, generator=g).to(device, dtype)
    out = torch.empty(m, n, device=device, dtype=dtype)
    torch.mm(a, b, out=out)  # warm-up: kernel selection, page faults of `out`

    def burst():
        for _ in range(number):
            torch.mm(a, b, out=out)
    return burst, 2 * m * k * n * number / 1e9


def gemm_rate(dtype: torch.dtype, device='cpu', shape: Sequence[int] = GEMM_SHAPE,
              rounds: int = 5, number: int = 10) -> float:
    """GFLOP/s of the best of ``rounds`` x ``number`` matmuls ``(m, k) @ (k, n)`` in ``dtype``.

    Args:
        dtype (torch.dtype): e.g. ``torch.float32`` or ``torch.bfloat16``.
        device: Where to run.
        shape (Sequence[int]): ``(m, k, n)``; :data:`GEMM_SHAPE` by convention.
        rounds (int): Timed rounds; the fastest counts.
        number (int): Matmuls per round.

    Returns:
        float: GFLOP/s (``2 * m * k * n * number / best_round_seconds / 1e9``).
    """
    device = torch.device(device)
    burst, gflop = gemm_burst(dtype, device, shape, number)
    best = float('inf')
    for _ in range(rounds):
        _sync(device)
        t0 = time.perf_counter()
        burst()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return gflop / best


def step_gflop(gmacs: float, passes: int = 3) -> float:
    """FLOPs (in G) of a step over ``gmacs`` forward multiply-adds: ``2 * passes * gmacs``."""
    return 2 * passes * gmacs


class RssSampler:
    """Peak resident memory of this process while :meth:`track` is active (a thread samples
    ``/proc/self/statm`` every ``interval`` s: no tracemalloc slow-down)."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak, self._on = interval, 0, False
        self._page = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096
        threading.Thread(target=self._run, daemon=True).start()

    def rss(self) -> int:
        """Resident bytes now."""
        try:
            with open('/proc/self/statm') as f:
                return int(f.read().split()[1]) * self._page
        except OSError:  # not Linux: the lifetime peak is the best there is
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self):
        while True:
            if self._on:
                self.peak = max(self.peak, self.rss())
            time.sleep(self.interval)

    @contextlib.contextmanager
    def track(self):
        self.peak = self.rss()
        self._on = True
        try:
            yield
        finally:
            self._on = False
            self.peak = max(self.peak, self.rss())


def time_interleaved(variants: Dict[str, Callable[[], object]], iters: int, warmup: int,
                     device='cpu', sampler: RssSampler = None
                     ) -> Tuple[Dict[str, List[float]], Dict[str, int]]:
    """Run every variant ``warmup`` times, then ``iters`` rounds of one call each, interleaved
    (noise from other processes on a shared machine then hits every variant alike).

    Returns:
        tuple: seconds per call ``{name: [s, ...]}`` and peak memory ``{name: bytes}`` (CUDA:
        ``max_memory_allocated``; CPU: the RSS peak of the process so far, an upper bound for
        all but the first variant; 0 without a sampler).
    """
    device = torch.device(device)
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    times = {k: [] for k in variants}
    mems = {k: 0 for k in variants}
    for _ in range(iters):
        for name, fn in variants.items():
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
                torch.cuda.reset_peak_memory_stats(device)
            ctx = sampler.track() if sampler is not None else contextlib.nullcontext()
            with ctx:
                t0 = time.perf_counter()
                fn()
                _sync(device)
                times[name].append(time.perf_counter() - t0)
            if device.type == 'cuda':
                mems[name] = max(mems[name], torch.cuda.max_memory_allocated(device))
            elif sampler is not None:
                mems[name] = max(mems[name], sampler.peak)
    return times, mems


def format_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A ``|``-separated text table, columns padded to their widest cell."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = [' | '.join(h.ljust(w) for h, w in zip(header, widths)),
             '-|-'.join('-' * w for w in widths)]
    lines += [' | '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return '\n'.join(lines)


def roofline_table(times: Dict[str, List[float]], gflop: Dict[str, float],
                   roof: Dict[str, float], clips: int, mems: Dict[str, int] = None,
                   mem_kind: str = 'peak RSS', gflop_done: Dict[str, float] = None) -> str:
    """One row per variant: median and min s/step, clips/s, achieved GFLOP/s and the fraction
    of the roofline of the variant's dtype.

    Args:
        times: Seconds per step of each variant.
        gflop: FLOPs (G) of one step of each variant.
        roof: GEMM GFLOP/s of each variant's dtype (the same key as ``times``).
        clips (int): Clips per step.
        mems: Peak memory (bytes) per variant, optional.
        gflop_done: FLOPs (G) the step actually computes, where fewer than ``gflop``
            (optional; adds the last column, the fraction of that work).
    """
    header = ['variant', 'median s', 'min s', 'clips/s', 'GFLOP/step', 'GFLOP/s', 'roofline',
              'fraction']
    if mems is not None:
        header.append(f'{mem_kind} GiB')
    if gflop_done is not None:
        header.append('fraction of work done')
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        row = [name, f'{med:.4g}', f'{min(ts):.4g}', f'{clips / med:.4g}', f'{gflop[name]:.4g}',
               f'{gflop[name] / med:.4g}', f'{roof[name]:.4g}',
               f'{gflop[name] / med / roof[name]:.1%}']
        if mems is not None:
            row.append(f'{mems[name] / 2**30:.2f}')
        if gflop_done is not None:
            row.append(f'{gflop_done[name] / med / roof[name]:.1%}')
        rows.append(row)
    return format_table(header, rows)
