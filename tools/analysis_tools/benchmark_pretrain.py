"""Time the pretraining step (forward + backward + AdamW step) of a config's model against the
machine's roofline, measured in the same run.

    python tools/analysis_tools/benchmark_pretrain.py CONFIG [--batch-size 2] [--amp] [--matrix]
        [--iters 10] [--warmup 2] [--threads 2] [--no-decoder-mask] [--shape T H W]
        [--attn-impl auto sdpa ...] [--compile] [--profile] [--no-roofline]

Prints, per variant, the median step time, clips/s, peak memory, the step's GFLOP (``2 x 3 x``
the forward multiply-adds of :func:`vmae2.analysis.count_flops`, i.e. ``get_flops.py``'s
count, for the variant's masking), the achieved GFLOP/s and its fraction of the roofline: the
best of 5 x 10 ``(1568x768) @ (768x3072)`` matmuls in the variant's dtype, measured in this
process before the steps (see :mod:`vmae2.analysis.roofline`). The last column is the fraction
of the work the step does: the count includes embedding the tubelets hidden from the encoder
(as the paper counts), which the model skips. Without bf16 hardware (an AVX2-only CPU) bf16
runs reference kernels: the bf16 roofline is then not measured (unless ``--gemm-shape``).
A last line gives the same reference matmul timed again between the steps, as one more
interleaved variant (10 matmuls a round): its median rate is the GEMM rate of the minutes the
steps ran in, and each step's fraction of it (on shared cores the best-burst roofline moves
more from run to run than the steps do; the table keeps the fixed convention).

Variants: ``--amp`` is bf16 autocast (CPU and CUDA); ``--matrix`` runs fp32 / bf16 x dual /
encoder-only masking; each ``--attn-impl`` value is a variant (attention kernel of every
block, see :mod:`vmae2.models.layers.attention_kernels`); ``--compile`` adds a ``torch.compile``-d
``forward_mae`` of each (what ``compile=True`` in a config does to ``train_step`` through
MMEngine's Runner) and checks its loss against the eager one. All variants run interleaved
step by step, so noise from other processes hits every variant alike; the allocator keeps freed
memory, so on a CPU each variant's peak RSS is an upper bound (the process peak so far).
``--profile`` prints a per-op breakdown of each variant's step. Masks are drawn before timing
(the data pipeline draws them in the real run). Only ``cfg.model`` is built, but loading a
config needs every file it inherits.
"""
import argparse
import math
import os.path as osp
import statistics
import sys
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))


def parse_args():
    p = argparse.ArgumentParser(description='Benchmark a pretraining step against the roofline')
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
    p.add_argument('--attn-impl', nargs='+', default=None,
                   choices=['auto', 'sdpa', 'math'],
                   help='attention kernel(s) to compare (default: as configured)')
    p.add_argument('--compile', action='store_true',
                   help='also run a torch.compile-d forward_mae of every variant')
    p.add_argument('--profile', action='store_true', help='per-op time breakdown per variant')
    p.add_argument('--no-roofline', action='store_true', help='skip the GEMM-rate measurement')
    p.add_argument('--gemm-shape', type=int, nargs=3, default=None, metavar=('M', 'K', 'N'),
                   help='reference matmul (default: the fixed 1568 768 3072)')
    p.add_argument('--shape', type=int, nargs=3, default=[16, 224, 224], metavar=('T', 'H', 'W'))
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--unfused-adamw', action='store_true', help="AdamW's per-parameter loop")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p.parse_args()


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import vmae2.models  # noqa: F401
    from vmae2.analysis import count_flops, skipped_embed_macs
    from vmae2.analysis.op_profile import format_profile, profile_ops
    from vmae2.analysis.roofline import (
        GEMM_SHAPE,
        RssSampler,
        gemm_burst,
        gemm_rate,
        machine_line,
        native_bf16,
        roofline_table,
        step_gflop,
        time_interleaved,
    )
    from vmae2.models import VideoMAEV2
    from vmae2.models.layers import set_attn_impl
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
    # (~0.15 s of a ViT-B step on 2 CPU cores); the schedules set `fused=True` too
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
        base = [(amp, dual) for amp in (False, True) for dual in (True, False)]
    else:
        base = [(args.amp, model.decoder_mask_cfg is not None and not args.no_decoder_mask)]
    impls = args.attn_impl or [None]
    compiled = [False, True] if args.compile else [False]
    variants = [(amp, dual, impl, c) for amp, dual in base for impl in impls for c in compiled]

    forward = {False: model.forward_mae}
    if args.compile:
        forward[True] = torch.compile(model.forward_mae)

    def name(v):
        amp, dual, impl, c = v
        parts = ['bf16' if amp else 'fp32', 'dual' if dual else 'encoder-only']
        if impl is not None:
            parts.append(f'attn={impl}')
        if c:
            parts.append('compiled')
        return ' '.join(parts)

    def make_step(v):
        amp, dual, impl, c = v

        def step():
            if impl is not None:
                set_attn_impl(model, impl)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                _, loss = forward[c](x, enc, dec if dual else None)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss
        return step

    steps = {name(v): make_step(v) for v in variants}
    if args.compile:  # the compiled step computes the eager step's loss (parameters unchanged)
        for v in variants:
            if v[3]:
                amp, dual, impl, _ = v
                with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=amp):
                    if impl is not None:
                        set_attn_impl(model, impl)
                    eager = float(model.forward_mae(x, enc, dec if dual else None)[1])
                    comp = float(forward[True](x, enc, dec if dual else None)[1])
                print(f'compiled vs eager loss ({name(v)}): {comp:.6f} vs {eager:.6f} '
                      f'(rel. diff {abs(comp - eager) / abs(eager):.1e})')

    # the step's arithmetic: get_flops.py's count of one clip, on a meta copy of the model
    with torch.device('meta'):
        meta = MODELS.build(cfg.model)
    gmacs = {dual: count_flops(meta, args.shape, 'meta', dual=dual) * B
             for dual in {v[1] for v in variants}}
    gflop = {name(v): step_gflop(gmacs[v[1]]) for v in variants}
    # the work the step does: the count less the embedding of the tubelets hidden from the
    # encoder, which the model skips (the paper's count, and so the convention, includes it)
    skipped = step_gflop(skipped_embed_macs(meta, enc) / 1e9)
    done = {n: g - skipped for n, g in gflop.items()}

    print(machine_line(device))
    roof = {}
    if not args.no_roofline:
        shape = args.gemm_shape or GEMM_SHAPE
        # without bf16 hardware the bf16 reference matmul runs ATen's fallback loops (~0.5
        # GFLOP/s on an AVX2 CPU: the 5 x 10 runs would take ~15 min) and is no roofline of
        # the machine; an explicit --gemm-shape still measures it
        emulated = not native_bf16(device)
        if emulated and any(v[0] for v in variants):
            print('bf16 is not native on this device (no AVX512-BF16 / AMX): bf16 steps run '
                  'reference kernels; ' + ('their roofline is not measured'
                                           if args.gemm_shape is None else
                                           'the bf16 roofline measures them'))
        rates = {amp: (float('nan') if amp and emulated and args.gemm_shape is None else
                       gemm_rate(torch.bfloat16 if amp else torch.float32, device, shape))
                 for amp in {v[0] for v in variants}}
        roof = {name(v): rates[v[0]] for v in variants}
        print('roofline (best of 5 x 10 runs of a ({}x{}) @ ({}x{}) matmul): '.format(
            shape[0], shape[1], shape[1], shape[2]) +
            ', '.join(f'{"bf16" if a else "fp32"} {r:.4g} GFLOP/s' for a, r in rates.items()))
    else:
        roof = {n: float('nan') for n in steps}

    for v in variants:  # the first call of a compiled step compiles its forward and backward
        if v[3]:
            start = time.perf_counter()
            steps[name(v)]()
            print(f'compile + first step ({name(v)}): {time.perf_counter() - start:.1f} s')

    # the reference matmul again, as one more variant timed between the steps: its median rate
    # is the GEMM rate of the same minutes as the steps (the roofline above is a best burst,
    # which on shared cores moves more than the steps do)
    bursts = {}
    if not args.no_roofline:
        for amp in sorted({v[0] for v in variants}):
            if not math.isnan(rates[amp]):
                bursts[f'reference GEMM {"bf16" if amp else "fp32"}'] = (amp, *gemm_burst(
                    torch.bfloat16 if amp else torch.float32, device, shape))
    timed = dict(steps, **{k: fn for k, (_, fn, _) in bursts.items()})

    sampler = RssSampler() if device.type == 'cpu' else None
    times, mems = time_interleaved(timed, args.iters, args.warmup, device, sampler)
    alongside = {}
    for k, (amp, _, burst_gflop) in bursts.items():
        alongside[amp] = burst_gflop / statistics.median(times.pop(k))
        mems.pop(k)

    cfg_name = osp.splitext(osp.basename(args.config))[0]
    mem_kind = 'max_memory_allocated' if device.type == 'cuda' else 'peak RSS'
    print(f'{cfg_name}: batch {B}, clip {T}x{H}x{W}, device {device}, '
          f'threads {torch.get_num_threads()}, {args.iters} timed steps after {args.warmup} '
          f'warmup, AdamW {"per-parameter" if args.unfused_adamw else "fused"}, '
          f'forward GMACs/clip ' + ', '.join(f'{"dual" if d else "encoder-only"} {m / B:.2f}'
                                             for d, m in gmacs.items()))
    print(roofline_table(times, gflop, roof, B, mems, mem_kind, done))
    if alongside:
        print('reference GEMM timed between the steps (median of the rounds): ' + ', '.join(
            f'{"bf16" if a else "fp32"} {r:.4g} GFLOP/s' for a, r in alongside.items()) +
            '; step at ' + ', '.join(
                f'{n} {gflop[n] / statistics.median(times[n]) / alongside[v[0]]:.1%}'
                for n, v in zip(steps, variants) if v[0] in alongside) + ' of it')

    if args.profile:
        for n, fn in steps.items():
            print(f'\n--profile: {n}')
            print(format_profile(*profile_ops(fn, steps=2, warmup=1, device=device)))


if __name__ == '__main__':
    main()
