"""Time a classifier's fine-tuning step and inference against the roofline, optionally side by
side with another checkout of vmae2 (an older commit), in one run.

    python tools/analysis_tools/benchmark_finetune.py [CONFIG] [--compare-with OLD_CHECKOUT]
        [--modes train infer] [--precisions fp32 bf16] [--batch-size 2] [--shape T H W]
        [--threads 2] [--iters 5] [--warmup 1] [--attn-impl IMPL] [--profile]

``CONFIG`` is a path relative to the repository root (default: the ViT-B classifier base,
``configs/_base_/models/vit-b-p16_cls.py``); each checkout reads its own copy of it. Every
(code, mode, precision) variant runs in its own worker process (this script with ``--worker``,
importing ``vmae2`` from its checkout), so that each peak RSS is that variant's own. The two
workers of a (mode, precision) pair start together and step in turn, one step each, so noise
from other processes hits both alike; their weights are the same (the first worker saves its
initial state dict, the other loads it) and each step re-seeds the RNG, so the losses / logits
must agree (printed).

* ``train`` = ``model.train_step`` (data preprocessor with the recipe's Mixup/CutMix, forward,
  label-smoothed loss, backward, fused AdamW) on uint8 clips with labels,
  ``AutocastOptimWrapper`` for bf16; both checkouts get the same blending and smoothing (older
  configs set them in the dataset bases);
* ``infer`` = ``model.test_step`` under ``torch.no_grad`` (and bf16 autocast for bf16).

Step FLOPs are ``2 x passes x`` the per-view forward multiply-adds of ``get_flops.py``'s
counter (passes 3 for training, 1 for inference) times the batch; the roofline is the GEMM rate
of :func:`vmae2.analysis.roofline.gemm_rate`, measured in this process before the workers run.
"""
import argparse
import copy
import importlib
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
import types

REPO = osp.abspath(osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
DEFAULT_CONFIG = 'configs/_base_/models/vit-b-p16_cls.py'
#: The fine-tuning recipe's Mixup/CutMix (``configs/_base_/models/vit_cls.py``), for 400 classes.
RECIPE_BLENDING = dict(type='RandomBatchAugment',
                       augments=[dict(type='MixupBlending', alpha=0.8, num_classes=400),
                                 dict(type='CutmixBlending', alpha=1.0, num_classes=400)],
                       probs=[0.5, 0.5])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Benchmark fine-tuning and inference steps')
    p.add_argument('config', nargs='?', default=DEFAULT_CONFIG,
                   help='config path relative to the repository root')
    p.add_argument('--compare-with', default=None, help='root of another vmae2 checkout')
    p.add_argument('--modes', nargs='+', default=['train', 'infer'], choices=['train', 'infer'])
    p.add_argument('--precisions', nargs='+', default=['bf16'], choices=['fp32', 'bf16'])
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--shape', type=int, nargs=3, default=[16, 224, 224], metavar=('T', 'H', 'W'))
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--iters', type=int, default=5)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--attn-impl', default=None, choices=['auto', 'sdpa', 'math'],
                   help='attention kernel of this checkout (default: as configured)')
    p.add_argument('--profile', action='store_true', help='per-op breakdown of each checkout')
    p.add_argument('--no-roofline', action='store_true')
    p.add_argument('--clock', default='wall', choices=['wall', 'cpu'],
                   help="'cpu': the workers' CPU time (a steadier A/B on a busy machine, "
                        'meaningful with --threads 1 only)')
    p.add_argument('--gemm-shape', type=int, nargs=3, default=None, metavar=('M', 'K', 'N'))
    # worker mode (internal)
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--code-root', default=REPO, help=argparse.SUPPRESS)
    p.add_argument('--mode', default='train', help=argparse.SUPPRESS)
    p.add_argument('--precision', default='bf16', help=argparse.SUPPRESS)
    p.add_argument('--weights', default=None, help=argparse.SUPPRESS)
    p.add_argument('--count-flops', action='store_true', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _bench_modules():
    """This checkout's ``vmae2/analysis/roofline.py`` and ``op_profile.py`` (they need only
    torch), imported as a stand-alone package: a worker for another checkout must not import
    this checkout's ``vmae2``."""
    name = '_vmae2_bench'
    if name not in sys.modules:
        pkg = types.ModuleType(name)
        pkg.__path__ = [osp.join(REPO, 'vmae2', 'analysis')]  # no __init__: no vmae2 import
        sys.modules[name] = pkg
    return (importlib.import_module(f'{name}.roofline'),
            importlib.import_module(f'{name}.op_profile'))


# ---------------------------------------------------------------------------------- worker
def worker(args):
    """Build the model of ``--code-root``, then answer ``step`` / ``done`` lines on stdin."""
    sys.path.insert(0, args.code_root)
    import random

    import numpy as np
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmaction.structures import ActionDataSample
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope

    import vmae2.engine  # noqa: F401
    import vmae2.models  # noqa: F401
    from vmae2.engine.optim_wrapper import AutocastOptimWrapper
    from vmae2.registry import MODELS
    # the checkout asked for, not an installed or this script's vmae2
    assert osp.samefile(osp.dirname(osp.dirname(osp.dirname(vmae2.models.__file__))),
                        args.code_root), vmae2.models.__file__
    init_default_scope('vmae2')
    roofline, op_profile = _bench_modules()

    cfg = Config.fromfile(osp.join(args.code_root, args.config))
    # the same recipe in both checkouts (older ones set it in the dataset bases)
    cfg.model.data_preprocessor.blending = RECIPE_BLENDING
    cfg.model.cls_head.label_smooth_eps = 0.1
    if args.attn_impl:
        cfg.model.backbone.attn_impl = args.attn_impl
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if args.weights and osp.exists(args.weights):
        model.load_state_dict(torch.load(args.weights, map_location='cpu', weights_only=True))
    elif args.weights:
        # a head far from its 0.001-scaled init, so that the class scores of the two checkouts
        # differ from uniform and their agreement means something
        for name, param in model.named_parameters():
            if 'cls_head' in name and name.endswith('weight'):
                torch.nn.init.normal_(param, std=0.5)
        torch.save(model.state_dict(), args.weights)
    bf16 = args.precision == 'bf16'

    B, (T, H, W) = args.batch_size, args.shape
    g = torch.Generator().manual_seed(1)
    inputs = [torch.randint(0, 256, (1, 3, T, H, W), generator=g, dtype=torch.uint8)
              for _ in range(B)]
    samples = [ActionDataSample().set_gt_label(i % 400) for i in range(B)]
    data = dict(inputs=inputs, data_samples=samples)
    if args.mode == 'train':
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05, fused=True)
        wrapper = AutocastOptimWrapper(optimizer=opt) if bf16 else OptimWrapper(optimizer=opt)
    else:
        model.eval()
    n_step = [0]

    def step():
        # the same Mixup/CutMix draws and drop-path masks in both checkouts
        torch.manual_seed(n_step[0])
        np.random.seed(n_step[0])
        random.seed(n_step[0])
        n_step[0] += 1
        if args.mode == 'train':
            return float(model.train_step(dict(data), wrapper)['loss'].detach())
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16, enabled=bf16):
            out = model.test_step(dict(data))
        return torch.cat([o.pred_score.float() for o in out]).tolist()  # (B * classes)

    gmacs = None
    if args.count_flops:  # this checkout's counter (get_flops.py's), on a meta copy
        from vmae2.analysis import count_flops
        flops_cfg = copy.deepcopy(cfg.model)
        flops_cfg.data_preprocessor.pop('blending', None)
        with torch.device('meta'):
            meta = MODELS.build(flops_cfg)
        gmacs = count_flops(meta, args.shape, 'meta') * B
    sampler = roofline.RssSampler()
    print(json.dumps(dict(ready=True, gmacs=gmacs)), flush=True)
    checks = []
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'step':
            with sampler.track():
                t0, c0 = time.perf_counter(), time.process_time()
                checks.append(step())
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
            print(json.dumps(dict(wall=dt, cpu=dc, peak=sampler.peak)), flush=True)
        elif cmd == 'profile':
            text = op_profile.format_profile(*op_profile.profile_ops(step, steps=1, warmup=0))
            print(json.dumps(dict(profile=text)), flush=True)
        elif cmd == 'done':
            print(json.dumps(dict(checks=checks)), flush=True)
            return


# ---------------------------------------------------------------------------------- parent
class Worker:
    """One worker process and its line protocol."""

    def __init__(self, args, code_root, mode, precision, weights, attn_impl=None):
        cmd = [sys.executable, osp.abspath(__file__), '--worker', '--code-root', code_root,
               '--mode', mode, '--precision', precision, '--weights', weights,
               '--batch-size', str(args.batch_size), '--shape', *map(str, args.shape),
               args.config]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        if attn_impl:
            cmd += ['--attn-impl', attn_impl]
        if code_root == REPO:
            cmd.append('--count-flops')
        env = dict(os.environ, PYTHONPATH=code_root)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=code_root)
        self.gmacs = self._reply('start')['gmacs']

    def _reply(self, cmd: str) -> dict:
        for line in self.proc.stdout:
            if line.startswith('{'):
                return json.loads(line)
        raise RuntimeError(f'worker exited with {self.proc.wait()} during {cmd!r}')

    def ask(self, cmd: str) -> dict:
        self.proc.stdin.write(cmd + '\n')
        self.proc.stdin.flush()
        return self._reply(cmd)

    def close(self) -> list:
        checks = self.ask('done')['checks']
        self.proc.wait(60)
        return checks


def _agreement(mode: str, checks: dict) -> str:
    """How closely the two checkouts agree: losses per step, or the class scores."""
    a, b = checks['this'], checks['other']
    if mode == 'train':
        diff = max(abs(x - y) / abs(y) for x, y in zip(a, b))
        return (f'loss this {a[0]:.6f}, other {b[0]:.6f} at the first step; largest relative '
                f'difference over the {len(a)} steps {diff:.1e}')
    x, y = a[0], b[0]  # first step's scores, (B * classes)
    diff = max(abs(u - v) for u, v in zip(x, y))
    spread = max(y) - min(y)
    return (f'class scores: largest difference {diff:.1e} (the scores span {spread:.1e})')


def main():
    args = parse_args()
    if args.worker:
        return worker(args)
    # the parent stays light (torch only): it measures the roofline and steers the workers
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    roofline, _ = _bench_modules()
    print(roofline.machine_line('cpu'))
    emulated = not roofline.native_bf16('cpu')
    if emulated and 'bf16' in args.precisions:
        print('bf16 is not native on this CPU (no AVX512-BF16 / AMX): bf16 steps run reference '
              'kernels, 10-100x slower than fp32' + ('; their roofline is not measured'
                                                    if args.gemm_shape is None else ''))
    rates = {}
    if not args.no_roofline:
        shape = args.gemm_shape or roofline.GEMM_SHAPE
        # (the bf16 reference matmul would take ~15 min in ATen's fallback loops)
        rates = {p: (float('nan') if p == 'bf16' and emulated and args.gemm_shape is None else
                     roofline.gemm_rate(torch.bfloat16 if p == 'bf16' else torch.float32, 'cpu',
                                        shape)) for p in args.precisions}
        print('roofline (best of 5 x 10 runs of a ({}x{}) @ ({}x{}) matmul): {}'.format(
            shape[0], shape[1], shape[1], shape[2],
            ', '.join(f'{p} {r:.4g} GFLOP/s' for p, r in rates.items())))
    codes = [('this', REPO)]
    if args.compare_with:
        codes.append(('other', osp.abspath(args.compare_with)))

    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        weights = osp.join(tmp, 'weights.pth')
        for mode in args.modes:
            for prec in args.precisions:
                workers = {name: Worker(args, root, mode, prec, weights,
                                        args.attn_impl if name == 'this' else None)
                           for name, root in codes}
                gmacs = workers['this'].gmacs
                times = {name: [] for name in workers}
                peaks = {name: 0 for name in workers}
                for i in range(args.warmup + args.iters):
                    for name, w in workers.items():  # interleaved, one step each
                        r = w.ask('step')
                        if i >= args.warmup:
                            times[name].append(r[args.clock])
                            peaks[name] = max(peaks[name], r['peak'])
                if args.profile:
                    for name, w in workers.items():
                        notes.append(f'--profile: {name} checkout, {mode} {prec}\n'
                                     + w.ask('profile')['profile'])
                checks = {name: w.close() for name, w in workers.items()}
                gflop = roofline.step_gflop(gmacs, 3 if mode == 'train' else 1)
                for name in workers:
                    med = statistics.median(times[name])
                    roof = rates.get(prec, float('nan'))
                    row = [name, mode, prec, f'{med:.4g}', f'{min(times[name]):.4g}',
                           f'{args.batch_size / med:.4g}', f'{gflop:.4g}', f'{gflop / med:.4g}',
                           f'{gflop / med / roof:.1%}', f'{peaks[name] / 2**30:.2f}']
                    if 'other' in times:
                        row.append(f'{statistics.median(times["other"]) / med:.2f}x')
                    rows.append(row)
                if 'other' in checks:
                    notes.append(f'{mode} {prec}: ' + _agreement(mode, checks))
    print(f'{args.config}: batch {args.batch_size}, clip {"x".join(map(str, args.shape))}, '
          f'threads {args.threads or torch.get_num_threads()}, {args.iters} timed steps after '
          f'{args.warmup} warmup, {args.clock} clock, '
          f'forward GMACs/clip {gmacs / args.batch_size:.4g}; '
          + '; '.join(f'{name} = {root}' for name, root in codes))
    header = ['code', 'mode', 'precision', 'median s', 'min s', 'clips/s', 'GFLOP/step',
              'GFLOP/s', 'of roofline', 'peak RSS GiB']
    if args.compare_with:
        header.append('other / this')
    print(roofline.format_table(header, rows))
    for n in notes:
        print(n)


if __name__ == '__main__':
    main()
