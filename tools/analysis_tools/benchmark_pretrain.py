"""Time the pretraining step (forward + backward + AdamW step) of a config's model.

    python tools/analysis_tools/benchmark_pretrain.py CONFIG [--batch-size 2] [--amp]
        [--iters 10] [--warmup 2] [--threads 2] [--no-decoder-mask] [--shape T H W] [--matrix]

Prints the median step time, clips/s and peak memory: on CUDA ``torch.cuda.max_memory_allocated``,
on CPU the peak resident set size during the steps (a sampling thread reading /proc/self/statm:
no tracemalloc slow-down). ``--amp`` is bf16 autocast (CPU and CUDA). ``--matrix`` runs fp32 /
bf16 x dual / encoder-only masking interleaved step by step, so that noise from other processes
on the machine hits every variant alike; the allocator keeps freed memory, so there each
variant's CPU peak is an upper bound (the process peak so far): run one variant alone for its
own. Masks are drawn before timing (the data pipeline draws them in the real run). Only
``cfg.model`` is built, but loading a config needs every file it inherits.
"""
import argparse
import contextlib
import os
import os.path as osp
import resource
import statistics
import sys
import threading
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))


def parse_args():
    p = argparse.ArgumentParser(description='Benchmark a pretraining step')
    p.add_argument('config')
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--amp', action='store_true', help='bf16 autocast')
    p.add_argument('--iters', type=int, default=10, help='timed steps per variant')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps per variant first')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--no-decoder-mask', action='store_true',
                   help='encoder masking only (VideoMAE V1 decoder)')
    p.add_argument('--matrix', action='store_true',
                   help='fp32/bf16 x dual/encoder-only, interleaved')
    p.add_argument('--shape', type=int, nargs=3, default=[16, 224, 224], metavar=('T', 'H', 'W'))
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--unfused-adamw', action='store_true', help="AdamW's per-parameter loop")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p.parse_args()


class RssSampler:
    """Peak resident memory of this process while active, sampled every ``interval`` s."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak, self._on = interval, 0, False
        self._page = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096
        threading.Thread(target=self._run, daemon=True).start()

    def rss(self) -> int:
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


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import vmae2.models  # noqa: F401
    from vmae2.models import VideoMAEV2
    from vmae2.registry import MODELS
    init_default_scope('vmae2')
    torch.manual_seed(args.seed)

    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device)
    model = MODELS.build(cfg.model).to(device).train()
    if not isinstance(model, VideoMAEV2):
        raise SystemExit(f'{args.config} is not a pretraining (VideoMAEV2) config')
    # fused AdamW: one kernel over all parameters instead of a Python loop of small ops
    # (~0.15 s of a ViT-B step on 2 CPU cores); set `fused=True` in the optimizer config too
    try:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95),
                                weight_decay=0.05, fused=not args.unfused_adamw)
    except RuntimeError:  # a device without the fused kernel
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05)

    B, (T, H, W) = args.batch_size, args.shape
    x = torch.randn(B, 3, T, H, W, device=device)  # an already normalised clip
    enc_gen, dec_gen = model.mask_generators(tuple(model.grid(x)))
    if dec_gen is None:
        from vmae2.masking import RunningCellMaskGenerator
        dec_gen = RunningCellMaskGenerator(enc_gen.input_size, 0.5)
    g = torch.Generator().manual_seed(args.seed)
    enc = enc_gen.batch(B, g).to(device)
    dec = dec_gen.batch(B, g).to(device)

    if args.matrix:
        variants = [(amp, dual) for amp in (False, True) for dual in (True, False)]
    else:
        default_dual = model.decoder_mask_cfg is not None and not args.no_decoder_mask
        variants = [(args.amp, default_dual)]

    sampler = RssSampler() if device.type == 'cpu' else None

    def step(amp: bool, dual: bool):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            _, loss = model.forward_mae(x, enc, dec if dual else None)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    def timed(amp, dual):
        if device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        ctx = sampler.track() if sampler else contextlib.nullcontext()
        with ctx:
            t0 = time.perf_counter()
            step(amp, dual)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
        mem = torch.cuda.max_memory_allocated() if device.type == 'cuda' else sampler.peak
        return dt, mem

    for _ in range(args.warmup):
        for v in variants:
            step(*v)
    times = {v: [] for v in variants}
    mems = {v: 0 for v in variants}
    for _ in range(args.iters):
        for v in variants:  # interleaved: shared-core noise hits every variant alike
            dt, mem = timed(*v)
            times[v].append(dt)
            mems[v] = max(mems[v], mem)

    name = osp.splitext(osp.basename(args.config))[0]
    mem_kind = 'max_memory_allocated' if device.type == 'cuda' else 'peak RSS'
    print(f'{name}: batch {B}, clip {T}x{H}x{W}, device {device}, '
          f'threads {torch.get_num_threads()}, {args.iters} timed steps after {args.warmup} '
          'warmup, '
          f'AdamW {"per-parameter" if args.unfused_adamw else "fused"}')
    print(f'{"precision":9} | {"masking":12} | {"median s/step":13} | {"min s":6} | '
          f'{"clips/s":7} | {mem_kind} (GiB)')
    for (amp, dual), ts in times.items():
        med = statistics.median(ts)
        print(f'{"bf16" if amp else "fp32":9} | {"dual" if dual else "encoder-only":12} | '
              f'{med:13.3f} | {min(ts):6.3f} | {B / med:7.2f} | {mems[(amp, dual)] / 2**30:.2f}')


if __name__ == '__main__':
    main()
