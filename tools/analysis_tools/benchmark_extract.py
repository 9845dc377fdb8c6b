"""Feature-extraction speed of a recognition config's backbone: windows/s in fp32 and bf16.

    python tools/analysis_tools/benchmark_extract.py CONFIG [--batch-size 8] [--iters 3]
        [--warmup 1] [--threads N] [--input-size 224] [--clip-len 16] [--device cpu]

Times what ``tools/extract_features.py`` does per batch once the frames are decoded: gather the
windows, normalise, run the backbone (pooled feature), copy back to the host; decoding runs in
the extractor's data-loader workers beside it. Random weights: the speed does not depend on
them. Prints one line per precision with the median batch time and windows/s.
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))  # run from a checkout
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--batch-size', type=int, default=8, help='windows per forward pass')
    p.add_argument('--iters', type=int, default=3, help='timed batches per precision')
    p.add_argument('--warmup', type=int, default=1, help='untimed batches first')
    p.add_argument('--threads', type=int, help='torch threads (default: torch\'s)')
    p.add_argument('--input-size', type=int, help="default: the config's input_size, else 224")
    p.add_argument('--clip-len', type=int, help="default: the config's clip_len, else 16")
    p.add_argument('--stride', type=int, default=4, help='frames between windows')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'],
                   choices=['fp32', 'bf16'])
    return p.parse_args(argv)


@torch.no_grad()
def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    from vmae2.registry import MODELS
    bb_cfg = dict(cfg.model.get('backbone', cfg.model))
    bb_cfg.pop('init_cfg', None)
    backbone = MODELS.build(bb_cfg).eval().to(args.device)
    size = args.input_size or cfg.get('input_size') or 224
    L = args.clip_len or cfg.get('clip_len') or 16
    B, s = args.batch_size, args.stride
    device = torch.device(args.device)
    # the frames one chunk of B windows spans, as the extractor receives them
    frames = torch.randint(0, 256, ((B - 1) * s + L, size, size, 3), dtype=torch.uint8)
    idx = (torch.arange(B) * s)[:, None] + torch.arange(L)
    mean = torch.tensor([123.675, 116.28, 103.53], device=device).view(1, 3, 1, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375], device=device).view(1, 3, 1, 1, 1)
    print(f'{osp.basename(args.config)}: {type(backbone).__name__} '
          f'{backbone.embed_dims}-d, windows of {L}x{size}x{size}, batch {B}, '
          f'{torch.get_num_threads()} threads, {device}')

    def step(amp):
        clips = frames.to(device)[idx]
        clips = (clips.permute(0, 4, 1, 2, 3).float() - mean) / std
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = backbone(clips)
        out = out.float().cpu()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        return out

    for precision in args.precisions:
        amp = precision == 'bf16'
        for _ in range(args.warmup):
            step(amp)
        times = []
        for _ in range(args.iters):
            start = time.perf_counter()
            step(amp)
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        print(f'{precision}: {med:.3f} s per batch of {B} (median of {args.iters}), '
              f'{B / med:.2f} windows/s')


if __name__ == '__main__':
    main()
