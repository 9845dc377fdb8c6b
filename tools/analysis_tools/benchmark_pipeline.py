"""Speed of a pretraining data pipeline in one process: clips/s, decoding vs augmentation, and
the video backends side by side.

    python tools/analysis_tools/benchmark_pipeline.py CONFIG [--list FILE | --videos DIR |
        --synthetic N] [--num-clips N] [--backends ORDER [ORDER ...]] [--rounds R]

Runs the dataset's ``pipeline`` (open, sample, decode) once per clip and its ``view_pipeline``
``num_sample`` times, as the dataset does, on the videos of a list file, a folder, a generated
SyntheticMotion set, or by default the dataset's own sources, and times every transform. A
"clip" is one decoded video with all its views. "Decode only" is the time of ``pipeline``
(open + sample + decode, through the decode watchdog when the config sets a timeout); "full" adds
the views.

With several ``--backends`` orders (``torchcodec decord pyav``, or explicit orders such as
``torchcodec,decord,pyav``), every order decodes the *same* clips (same videos, same random
starts and crops), the orders interleaved: round r runs each order once, the order of the orders
rotating from round to round, so that load changes on a shared machine hit every backend alike.
A bare name ``b`` runs as ``b,pyav``: files a backend is off for (see ``OFF_RULES`` in
``vmae2/datasets/video_readers.py``) fall back to PyAV, as in a real order. Medians over the
rounds and ratios to the first order are printed, with the decoders that actually read the clips.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))  # run from a checkout
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    src = parser.add_mutually_exclusive_group()
    src.add_argument('--list', help='list file (either layout), paths relative to --root')
    src.add_argument('--videos', help='folder of videos')
    src.add_argument('--synthetic', type=int, metavar='N',
                     help='generate N SyntheticMotion clips (H.264, 96 frames) and use them')
    parser.add_argument('--synthetic-size', type=int, default=160, help='their frame side')
    parser.add_argument('--root', default='', help='root of the paths in --list')
    parser.add_argument('--num-clips', type=int, default=50, help='timed clips per round')
    parser.add_argument('--rounds', type=int, default=1, help='interleaved rounds')
    parser.add_argument('--warmup', type=int, default=2, help='untimed clips first, per order')
    parser.add_argument('--backends', nargs='+', metavar='ORDER',
                        help='backend orders to compare (comma-separated; a bare name b runs '
                        'as b,pyav); default: the config\'s')
    parser.add_argument('--frame-interval', type=int, help='interval for --list/--videos items')
    parser.add_argument('--num-threads', type=int, help='decoder threads')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def parse_orders(specs):
    """``['torchcodec', 'decord,pyav']`` -> ``[('torchcodec', 'pyav'), ('decord', 'pyav')]``."""
    orders = []
    for spec in specs or []:
        names = tuple(n for n in spec.split(',') if n)
        if len(names) == 1 and names[0] != 'pyav':
            names += ('pyav', )
        orders.append(names)
    return orders


def load_items(args, cfg, tmp):
    from vmae2.datasets import VideoPretrainDataset, generate_synthetic_motion, parse_list_file
    from vmae2.registry import DATASETS
    if args.list:
        items = parse_list_file(args.list, root=args.root)
    elif args.videos or args.synthetic:
        folder = args.videos
        if args.synthetic:
            per_class = -(-args.synthetic // 8)
            paths = generate_synthetic_motion(osp.join(tmp, 'synthetic'), num_classes=8,
                                              clips_per_class=per_class, num_frames=96,
                                              size=args.synthetic_size, val_ratio=0.0)
            folder = osp.join(paths['root'], 'videos')
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(VIDEO_EXTS))
        items = [dict(filename=osp.join(folder, n), start_index=0, label=-1)
                 for n in names[:args.synthetic or None]]
    else:
        dataset = DATASETS.build(cfg)
        assert isinstance(dataset, VideoPretrainDataset)
        items = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not items:
        sys.exit('no videos to benchmark')
    if args.frame_interval:
        for item in items:
            item['frame_interval'] = args.frame_interval
    return items


class PipelineRun:
    """One backend order's pipelines and their accumulated times."""

    def __init__(self, load_cfg, view_cfg, order, num_threads):
        from vmae2.datasets.pretrain_dataset import build_pipeline
        load_cfg = [dict(t) for t in load_cfg]
        for t in load_cfg:
            if t['type'] in ('VideoInit', 'VideoDecode'):
                if order:
                    t['backends'] = tuple(order)
                if num_threads:
                    t['num_threads'] = num_threads
        self.order = order
        self.load, self.views = build_pipeline(load_cfg), build_pipeline(view_cfg)
        self.times = defaultdict(float)  # (is_load, transform name) -> seconds
        self.decoders = Counter()
        self.shape = None

    def _run(self, transforms, results, timed):
        for t in transforms.transforms:
            start = time.perf_counter()
            results = t(results)
            if timed:
                self.times[(transforms is self.load, type(t).__name__)] += \
                    time.perf_counter() - start
        return results

    def clip(self, item, seed, num_sample, timed):
        """Decodes ``item`` and makes its views; returns (decode s, augment s)."""
        from vmae2.datasets import seeded_global_rng
        with seeded_global_rng(seed):
            t0 = time.perf_counter()
            results = self._run(self.load, dict(item), timed)
            t1 = time.perf_counter()
            for _ in range(num_sample):
                self._run(self.views, dict(results, imgs=list(results['imgs'])), timed)
            t2 = time.perf_counter()
        if timed:
            self.decoders[results.get('decoder', '?')] += 1
        self.shape = results['imgs'][0].shape
        return t1 - t0, t2 - t1


def main(argv=None):
    args = parse_args(argv)
    init_default_scope('vmae2')
    cfg = Config.fromfile(args.config).train_dataloader.dataset
    if 'pipeline' not in cfg:
        sys.exit(f'{args.config}: train_dataloader.dataset has no pipeline')
    load_cfg, view_cfg = list(cfg.pipeline), list(cfg.get('view_pipeline', []))
    num_sample = cfg.get('num_sample', 1)
    orders = parse_orders(args.backends) or [None]
    with tempfile.TemporaryDirectory() as tmp:
        items = load_items(args, cfg, tmp)
        runs = [PipelineRun(load_cfg, view_cfg, o, args.num_threads) for o in orders]
        for run in runs:  # warm-up: imports, the watchdog's helper, first opens
            for n in range(args.warmup):
                run.clip(items[n % len(items)], args.seed + n, num_sample, timed=False)
        per_round = defaultdict(list)  # order index -> [(decode s, augment s)] per round
        for r in range(args.rounds):
            rotation = [(r + k) % len(runs) for k in range(len(runs))]
            for k in rotation:
                dec = aug = 0.0
                for n in range(args.num_clips):
                    i = r * args.num_clips + n  # the same clips for every order
                    d, a = runs[k].clip(items[i % len(items)], args.seed + 1000 + i,
                                        num_sample, timed=True)
                    dec, aug = dec + d, aug + a
                per_round[k].append((dec, aug))
    report(args, runs, per_round, items, num_sample)


def report(args, runs, per_round, items, num_sample):
    """Per order: the clips/s and per-transform breakdown; with several orders, the side-by-side
    table (medians over rounds, ratios to the first order)."""
    n = args.num_clips * args.rounds
    name = lambda run: ','.join(run.order) if run.order else 'config'  # noqa: E731
    rows = []
    for k, run in enumerate(runs):
        decode = sum(t for (is_load, _), t in run.times.items() if is_load)
        total = sum(run.times.values())
        if len(runs) > 1:
            print(f'== backends {name(run)}')
        print(f'{n} clips from {len(items)} videos, {num_sample} views each, '
              f'decoders used: {dict(run.decoders)}, decoded frame shape {run.shape}')
        print(f'{n / total:.1f} clips/s, {n * num_sample / total:.1f} views/s (one process)')
        print(f'decoding {decode / total:.0%} ({1000 * decode / n:.1f} ms/clip), augmentation '
              f'{(total - decode) / total:.0%} ({1000 * (total - decode) / n:.1f} ms/clip)')
        for (is_load, tname), t in sorted(run.times.items(), key=lambda kv: -kv[1]):
            stage = 'decode ' if is_load else 'augment'
            print(f'  {stage} {tname:<20s} {1000 * t / n:7.1f} ms/clip  {t / total:5.1%}')
        c = args.num_clips
        rows.append((run, [c / d for d, _ in per_round[k]], [c / (d + a) for d, a in per_round[k]],
                     [d / (d + a) for d, a in per_round[k]]))
    if len(runs) == 1:
        return
    med = statistics.median
    print(f'\n== side by side: {args.num_clips} clips x {args.rounds} interleaved rounds, '
          f'medians; load average {os.getloadavg()[0]:.2f} (1 min)')
    print(f'{"backends":<24s} {"decode clips/s":>14s} {"full clips/s":>13s} {"decoding":>9s} '
          f'{"vs first: decode":>17s} {"full":>6s}')
    dec0, full0 = med(rows[0][1]), med(rows[0][2])
    for run, dec, full, share in rows:
        print(f'{name(run):<24s} {med(dec):14.1f} {med(full):13.2f} {med(share):9.0%} '
              f'{med(dec) / dec0:17.2f} {med(full) / full0:6.2f}')
    if args.rounds > 1:
        print('per round (decode | full clips/s):')
        for run, dec, full, _ in rows:
            print(f'  {name(run):<22s} ' + ' '.join(f'{x:5.1f}' for x in dec) + ' | ' +
                  ' '.join(f'{x:5.2f}' for x in full))


if __name__ == '__main__':
    main()
