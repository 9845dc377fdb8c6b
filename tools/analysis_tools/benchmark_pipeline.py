"""Speed of a pretraining data pipeline in one process: clips/s, decoding vs augmentation.

    python tools/analysis_tools/benchmark_pipeline.py CONFIG [--list FILE | --videos DIR]
        [--num-clips N]

Runs the dataset's ``pipeline`` (open, sample, decode) once per clip and its ``view_pipeline``
``num_sample`` times, as the dataset does, on the videos of a list file or a folder (by default
the dataset's own sources), and times every transform. A "clip" is one decoded video with all
its views; views/s is also printed.
"""
import argparse
import os
import os.path as osp
import sys
import time
from collections import defaultdict

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))  # run from a checkout
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    src = parser.add_mutually_exclusive_group()
    src.add_argument('--list', help='list file (either layout), paths relative to --root')
    src.add_argument('--videos', help='folder of videos')
    parser.add_argument('--root', default='', help='root of the paths in --list')
    parser.add_argument('--num-clips', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=2, help='untimed clips first')
    parser.add_argument('--backends', nargs='+', help='override the decoders, e.g. pyav')
    parser.add_argument('--frame-interval', type=int, help='interval for --list/--videos items')
    parser.add_argument('--num-threads', type=int, help='decoder threads')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    init_default_scope('vmae2')
    from vmae2.datasets import VideoPretrainDataset, parse_list_file, seeded_global_rng
    from vmae2.datasets.pretrain_dataset import build_pipeline
    from vmae2.registry import DATASETS

    cfg = Config.fromfile(args.config).train_dataloader.dataset
    if 'pipeline' not in cfg:
        sys.exit(f'{args.config}: train_dataloader.dataset has no pipeline')
    load_cfg, view_cfg = list(cfg.pipeline), list(cfg.get('view_pipeline', []))
    for t in load_cfg + view_cfg:
        if args.backends and t['type'] in ('VideoInit', 'VideoDecode'):
            t['backends'] = tuple(args.backends)
        if args.num_threads and t['type'] in ('VideoInit', 'VideoDecode'):
            t['num_threads'] = args.num_threads
    num_sample = cfg.get('num_sample', 1)

    if args.list:
        items = parse_list_file(args.list, root=args.root)
    elif args.videos:
        items = [dict(filename=osp.join(args.videos, n), start_index=0, label=-1)
                 for n in sorted(os.listdir(args.videos)) if n.lower().endswith(VIDEO_EXTS)]
    else:
        dataset = DATASETS.build(cfg)
        assert isinstance(dataset, VideoPretrainDataset)
        items = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not items:
        sys.exit('no videos to benchmark')
    if args.frame_interval:
        for item in items:
            item['frame_interval'] = args.frame_interval

    load, views = build_pipeline(load_cfg), build_pipeline(view_cfg)
    times, decoders = defaultdict(float), defaultdict(int)

    def run(transforms, results, timed):
        for t in transforms.transforms:
            start = time.perf_counter()
            results = t(results)
            if timed:
                times[(transforms is load, type(t).__name__)] += time.perf_counter() - start
        return results

    for n in range(args.warmup + args.num_clips):
        timed = n >= args.warmup
        with seeded_global_rng(args.seed + n):
            results = run(load, dict(items[n % len(items)]), timed)
            if timed:
                decoders[results.get('decoder', '?')] += 1
            for v in range(num_sample):
                run(views, dict(results, imgs=list(results['imgs'])), timed)

    decode = sum(t for (is_load, _), t in times.items() if is_load)
    augment = sum(t for (is_load, _), t in times.items() if not is_load)
    total = decode + augment
    shape = results['imgs'][0].shape if 'imgs' in results else None
    print(f'{args.num_clips} clips from {len(items)} videos, {num_sample} views each, '
          f'decoders used: {dict(decoders)}, decoded frame shape {shape}')
    print(f'{args.num_clips / total:.1f} clips/s, {args.num_clips * num_sample / total:.1f} '
          f'views/s (one process)')
    print(f'decoding {decode / total:.0%} ({1000 * decode / args.num_clips:.1f} ms/clip), '
          f'augmentation {augment / total:.0%} ({1000 * augment / args.num_clips:.1f} ms/clip)')
    for (is_load, name), t in sorted(times.items(), key=lambda kv: -kv[1]):
        stage = 'decode ' if is_load else 'augment'
        print(f'  {stage} {name:<20s} {1000 * t / args.num_clips:7.1f} ms/clip  {t / total:5.1%}')


if __name__ == '__main__':
    main()
