"""Measure the pretraining data pipeline: clips/s, and decoding vs augmentation time.

    python tools/analysis_tools/benchmark_pipeline.py CONFIG (--videos DIR | --list FILE)
        [--num-clips 60] [--num-sample N] [--backends decord pyav]

Runs the config's training pipeline in this one process (no DataLoader workers, one thread per
decoder), on the given videos: stage 1 (open, sample, decode: once per video) and stage 2 (crop,
resize, format, masks, pack: once per view) are timed separately. A "clip" is one decoded video;
with ``num_sample`` views each, views/s = clips/s x num_sample.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config, DictAction  # noqa: E402

from vmae2.datasets import SampleKey, VideoPretrainDataset  # noqa: E402
from vmae2.utils import register_all_modules  # noqa: E402

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov')


class Timed:
    """Wraps a callable pipeline and records the duration of each call."""

    def __init__(self, fn):
        self.fn, self.times = fn, []

    def __call__(self, results):
        t = time.perf_counter()
        out = self.fn(results)
        self.times.append(time.perf_counter() - t)
        return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--videos', help='a folder of video files')
    src.add_argument('--list', help='a list file (official or `path label` layout)')
    p.add_argument('--root', default='', help='folder the paths of --list are relative to')
    p.add_argument('--num-clips', type=int, default=60, help='videos to decode (after warm-up)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--num-sample', type=int, default=None, help='views per video (config\'s)')
    p.add_argument('--backends', nargs='+', default=None,
                   help='decoders in order of preference (default: the config\'s)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def build_dataset(cfg: Config, ann_file: str, root: str, num_sample=None, backends=None):
    ds_cfg = cfg.train_dataloader.dataset
    pipeline = [dict(t) for t in ds_cfg.pipeline]
    if backends:
        for t in pipeline:
            if t['type'] in ('VideoInit', 'VideoDecode'):
                t['backends'] = tuple(backends)
    return VideoPretrainDataset(
        sources=[dict(ann_file=ann_file, root=root)], pipeline=pipeline,
        view_pipeline=ds_cfg.get('view_pipeline', []),
        num_sample=num_sample or ds_cfg.get('num_sample', 1), seed=0, max_bad_ratio=1.0)


def run(args) -> dict:
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    tmp = None
    if args.videos:
        files = sorted(f for f in os.listdir(args.videos) if f.lower().endswith(VIDEO_EXTS))
        if not files:
            raise SystemExit(f'no videos in {args.videos}')
        tmp = tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False)
        tmp.write('\n'.join(f'{f} 0 -1' for f in files))
        tmp.close()
        ann_file, root = tmp.name, args.videos
    else:
        ann_file, root = args.list, args.root
    ds = build_dataset(cfg, ann_file, root, args.num_sample, args.backends)
    ds.full_init()
    load, views = Timed(ds.pipeline), Timed(ds.view_pipeline)
    ds.pipeline, ds.view_pipeline = load, views
    n = len(ds)
    decoders = []
    for i in range(args.warmup):
        ds[SampleKey(i % n, 0, 0)]
    load.times.clear()
    views.times.clear()
    t0 = time.perf_counter()
    for i in range(args.num_clips):
        out = ds[SampleKey(i % n, 1 + i // n, 0)]
        first = out[0] if isinstance(out, list) else out
        decoders.append(first['data_samples'].metainfo.get('decoder', '?')
                        if 'data_samples' in first else first.get('decoder', '?'))
    wall = time.perf_counter() - t0
    if tmp is not None:
        os.unlink(tmp.name)
    decode, augment = sum(load.times), sum(views.times)
    return dict(clips=args.num_clips, views=len(views.times), wall=wall,
                clips_per_s=args.num_clips / wall, views_per_s=len(views.times) / wall,
                decode_s=decode, augment_s=augment, decode_share=decode / (decode + augment),
                median_decode_ms=1e3 * statistics.median(load.times),
                median_view_ms=1e3 * statistics.median(views.times),
                bad=ds.tracker.num_bad, num_sample=ds.num_sample)


def main(argv=None):
    args = parse_args(argv)
    r = run(args)
    print(f"{r['clips']} clips x {r['num_sample']} views in {r['wall']:.2f} s (1 process): "
          f"{r['clips_per_s']:.1f} clips/s, {r['views_per_s']:.1f} views/s")
    print(f"decode (open + sample + decode, per clip): {r['decode_s']:.2f} s "
          f"({100 * r['decode_share']:.0f} %), median {r['median_decode_ms']:.1f} ms")
    print(f"augment (crop + resize + format + masks + pack, per view): {r['augment_s']:.2f} s "
          f"({100 * (1 - r['decode_share']):.0f} %), median {r['median_view_ms']:.1f} ms")
    if r['bad']:
        print(f"{r['bad']} unreadable samples were skipped")
    return r


if __name__ == '__main__':
    main()
