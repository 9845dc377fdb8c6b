"""Pack the video sources of a pretraining config into tar shards for StreamingPretrainDataset.

    python tools/data/pack_shards.py CONFIG OUT [--shard-size-mb 1024] [--seed 0]
        [--cfg-options k=v ...]

The sources are read exactly as training reads them: the config's ``train_dataloader.dataset``
(a ``VideoPretrainDataset`` such as the hybrid mix, or ``SyntheticMotionPretrainDataset``,
which generates its set first) is built and its parsed list files are packed - each clip's
bytes, its source's name and frame interval, and its original path. The clips are shuffled
across sources (``--seed``) so that every shard holds a mix, then written into
``OUT/shard-NNNNN.tar`` files of about ``--shard-size-mb`` each (member ``KEY.EXT`` = the video,
``KEY.json`` = its metadata), and ``OUT/index.json`` last: a pack without an index is
unfinished. Files that cannot be read are skipped and listed; frame-folder sources are refused
(the shards hold video files). The index format: :mod:`vmae2.datasets.streaming_dataset`.
"""
import argparse
import io
import json
import os
import os.path as osp
import sys
import tarfile
import zlib

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))  # run from a checkout
from vmae2.datasets.streaming_dataset import FORMAT, INDEX_NAME, VERSION  # noqa: E402
from vmae2.registry import DATASETS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='pretraining config whose train dataset is packed')
    parser.add_argument('out', help='folder to write the shards and index.json into')
    parser.add_argument('--shard-size-mb', type=float, default=1024,
                        help='start a new shard past this size (MiB)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the packing order')
    parser.add_argument('--no-shuffle', action='store_true',
                        help='keep the list-file order (source after source)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_dataloader.dataset.data_root=X')
    return parser.parse_args(argv)


def load_sources(cfg):
    """``(sources, samples)`` of the config's train dataset: one ``dict(name,
    frame_interval)`` per source and its parsed list entries (with ``source_idx``).

    Raises:
        ValueError: the dataset has no list-file sources, or one holds frame folders.
    """
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, lazy_init=True))
    if not hasattr(dataset, 'sources') or not hasattr(dataset, 'load_data_list'):
        raise ValueError(f'{type(dataset).__name__} has no list-file sources to pack '
                         '(a VideoPretrainDataset-like train dataset is needed)')
    samples = dataset.load_data_list()
    sources = [dict(name=name, frame_interval=src.get('frame_interval'))
               for name, src in zip(dataset.source_names, dataset.sources)]
    frames = [s for s in samples if 'frame_dir' in s]
    if frames:
        name = sources[frames[0]['source_idx']]['name']
        raise ValueError(f'source {name!r} holds frame folders ({frames[0]["frame_dir"]}...): '
                         'the shards hold video files; encode the frames into videos first')
    return sources, samples


class ShardWriter:
    """Writes members into numbered tar files of about ``max_bytes`` each and collects the
    index rows (offsets come from the tar headers read back, so they are tarfile's own)."""

    def __init__(self, out: str, max_bytes: int) -> None:
        self.out, self.max_bytes = out, max_bytes
        self.shards, self._tar, self._rows, self._name = [], None, [], None

    def add(self, key: str, path: str, data: bytes, source: int, source_name: str,
            frame_interval, start_index: int) -> None:
        if self._tar is None:
            self._name = f'shard-{len(self.shards):05d}.tar'
            self._tar = tarfile.open(osp.join(self.out, self._name + '.tmp'), 'w',
                                     format=tarfile.PAX_FORMAT)
        ext = osp.splitext(path)[1].lower() or '.bin'
        meta = dict(path=path, source=source_name, frame_interval=frame_interval,
                    start_index=start_index)
        for name, payload in ((key + ext, data), (key + '.json', json.dumps(meta).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            self._tar.addfile(info, io.BytesIO(payload))
        self._rows.append([key + ext, len(data), zlib.crc32(data), source, path, start_index])
        if self._tar.offset >= self.max_bytes:
            self.close_shard()

    def close_shard(self) -> None:
        if self._tar is None:
            return
        self._tar.close()
        tmp = osp.join(self.out, self._name + '.tmp')
        with tarfile.open(tmp) as tar:
            offsets = {m.name: m.offset_data for m in tar.getmembers()}
        members = [[offsets[name], *rest] for name, *rest in self._rows]
        os.replace(tmp, osp.join(self.out, self._name))
        self.shards.append(dict(file=self._name, members=members))
        self._tar, self._rows = None, []


def pack(sources, samples, out: str, shard_size_mb: float = 1024, seed: int = 0,
         shuffle: bool = True) -> dict:
    """Writes the shards and ``index.json`` of ``samples``; returns the index.

    Args:
        sources: ``[dict(name, frame_interval), ...]``.
        samples: Parsed list entries with ``filename``, ``source_idx``, ``start_index``.
        out: Output folder (created).
        shard_size_mb: Shard size past which a new shard starts.
        seed: Seed of the order (with ``shuffle``).
        shuffle: Mix the sources across shards.
    """
    os.makedirs(out, exist_ok=True)
    if osp.exists(osp.join(out, INDEX_NAME)):
        os.remove(osp.join(out, INDEX_NAME))  # a re-pack: unfinished until the new index
    order = np.random.default_rng(seed).permutation(len(samples)) if shuffle else \
        np.arange(len(samples))
    writer = ShardWriter(out, int(shard_size_mb * 2**20))
    skipped, counts = [], [0] * len(sources)
    bar = ProgressBar(len(order))
    for i in order:
        sample = samples[int(i)]
        s = sample['source_idx']
        try:
            with open(sample['filename'], 'rb') as f:
                data = f.read()
        except OSError as e:
            skipped.append(f'{sample["filename"]} ({e})')
        else:
            writer.add(f'{sum(counts):08d}', sample['filename'], data, s, sources[s]['name'],
                       sources[s]['frame_interval'], sample.get('start_index', 0))
            counts[s] += 1
        bar.update()
    writer.close_shard()
    index = dict(format=FORMAT, version=VERSION,
                 sources=[dict(src, num_clips=n) for src, n in zip(sources, counts)],
                 shards=writer.shards)
    tmp = osp.join(out, INDEX_NAME + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(index, f)
    os.replace(tmp, osp.join(out, INDEX_NAME))
    per_source = ', '.join(f'{src["name"]}: {n}' for src, n in zip(sources, counts))
    print(f'\npacked {sum(counts)} clips of {len(sources)} sources ({per_source}) into '
          f'{len(writer.shards)} shards in {out}')
    if skipped:
        print(f'skipped {len(skipped)} unreadable files:\n  ' + '\n  '.join(skipped))
    return index


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    sources, samples = load_sources(cfg)
    pack(sources, samples, args.out, args.shard_size_mb, args.seed, not args.no_shuffle)


if __name__ == '__main__':
    main()
