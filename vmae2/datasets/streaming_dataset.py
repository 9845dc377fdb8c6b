"""Pretraining from video shards: the mix packed into a few large tar files instead of millions
of small files on a shared disk.

Layout of a pack (written by ``tools/data/pack_shards.py``)::

    OUT/shard-00000.tar   members 00000000.mp4, 00000000.json, 00000001.avi, ... (plain tar:
    OUT/shard-00001.tar   `tar tf` lists it, webdataset reads it; the .json repeats the metadata)
    OUT/index.json        {"format": "vmae2-video-shards", "version": 1,
                           "sources": [{"name", "frame_interval", "num_clips"}, ...],
                           "shards": [{"file", "members": [[offset, size, crc32, source,
                                                            path, start_index], ...]}, ...]}

``offset``/``size`` locate a video's bytes inside its tar, so a sample is one ``os.pread`` of a
contiguous byte range (no per-clip file open, the metadata load that breaks shared disks at a
million clips); ``crc32`` catches a member corrupted after packing; ``path`` is the clip's
original path, which names it in messages and in the packed ``filename`` meta key.

Why a map-style dataset over the shards, not a streaming (iterable) one - litdata 0.2.76's
``StreamingDataset``, webdataset's ``WebDataset`` (checked, not assumed): MMEngine's runner
builds every sampler config and hands it to ``torch.utils.data.DataLoader``, which rejects a
sampler for an ``IterableDataset`` (``ValueError: DataLoader with IterableDataset: expected
unspecified sampler option``); with ``sampler=None`` the loader builds, but then the epoch never
reaches the dataset (``DistSamplerSeedHook`` finds no ``set_epoch``), no
:class:`~vmae2.datasets.seeding.SampleKey` seeds the samples, and litdata's resumable state is
kept by its own ``StreamingDataLoader`` (per-worker counts of yielded samples), which the runner
neither builds nor checkpoints. MMEngine resumes an ``IterBasedTrainLoop`` by decoding every
seen batch again, and an ``EpochBasedTrainLoop`` from the first batch of the epoch. Here the
shards are random-access, so the order is the sampler's
(:class:`~vmae2.datasets.streaming_sampler.ShardAwareSampler`: shards shuffled, then the clips
inside each, split over ranks with equal counts) and a mid-epoch resume starts the sampler at
its checkpointed position (:class:`~vmae2.datasets.streaming_sampler.StreamingResumeHook`),
without reading the skipped clips. The format is a plain tar (stdlib ``tarfile``) plus an
index: litdata's chunk format would bring boto3, botocore and obstore (~60 MB) for random
reads that ``os.pread`` does.

Everything else is :class:`VideoPretrainDataset`'s: per-source weights, repeated augmentation,
per-sample seeding from :class:`~vmae2.datasets.seeding.SampleKey`, and unreadable members
(short read, checksum mismatch, undecodable bytes) counted by the
:class:`~vmae2.datasets.bad_samples.BadSampleTracker` and replaced by a clip of the same source.
"""
import json
import os
import os.path as osp
import zlib
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from vmae2.registry import DATASETS

from .pretrain_dataset import VideoPretrainDataset
from .video_readers import BadVideoError
from .video_sources import NamedBytes

INDEX_NAME = 'index.json'
FORMAT = 'vmae2-video-shards'
VERSION = 1
#: Columns of a member row of ``index.json``.
MEMBER_FIELDS = ('offset', 'size', 'crc32', 'source', 'path', 'start_index')


def read_index(shard_dir: str) -> dict:
    """The parsed ``index.json`` of a pack, checked for format and version.

    Raises:
        FileNotFoundError: no index (the pack is missing or was not finished: the pack tool
            writes the index last).
        ValueError: not a vmae2 pack, or a version this code does not read.
    """
    path = osp.join(shard_dir, INDEX_NAME)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: pack the sources first (python tools/data/pack_shards.py '
            f'CONFIG {shard_dir}); a pack without its index was interrupted')
    with open(path, encoding='utf-8') as f:
        index = json.load(f)
    if index.get('format') != FORMAT or index.get('version') != VERSION:
        raise ValueError(f'{path}: not a {FORMAT} v{VERSION} index (format '
                         f'{index.get("format")!r}, version {index.get("version")!r})')
    return index


class ShardReader:
    """Reads members by offset with ``os.pread``: no shared file position, so one descriptor
    per shard and process serves any order of reads; descriptors are reopened after a fork
    (DataLoader workers) rather than shared with the parent."""

    def __init__(self) -> None:
        self._pid = None
        self._fds: Dict[str, int] = {}

    def read(self, shard: str, offset: int, size: int, crc32: int, name: str) -> NamedBytes:
        """The member's bytes, named ``name``.

        Raises:
            BadVideoError: the shard is missing or short, or the bytes fail their checksum.
        """
        if self._pid != os.getpid():
            self._pid, self._fds = os.getpid(), {}
        try:
            fd = self._fds.get(shard)
            if fd is None:
                fd = self._fds[shard] = os.open(shard, os.O_RDONLY)
            data = os.pread(fd, size, offset)
        except OSError as e:
            raise BadVideoError(f'{name}: cannot read its shard {shard}: {e}') from e
        if len(data) != size:
            raise BadVideoError(f'{name}: {len(data)} of {size} bytes at offset {offset} of '
                                f'{shard} (truncated shard)')
        if zlib.crc32(data) != crc32:
            raise BadVideoError(f'{name}: checksum mismatch in {shard} (corrupt member)')
        return NamedBytes(data, name)


@DATASETS.register_module()
class StreamingPretrainDataset(VideoPretrainDataset):
    """Unlabelled videos read from one or more packs of shards.

    An item is what :class:`VideoPretrainDataset` gives: a packed view, or a list of
    ``num_sample`` views (``inputs`` ``(C, T, H, W)`` uint8 each) with meta keys such as
    ``filename`` (the clip's original path), ``source_idx``, ``view_idx`` and ``mask_seed``.

    Args:
        shards: Folder of a pack (holding ``index.json``), or several; relative to
            ``data_root``. Source names must differ across packs.
        pipeline: Transforms run once per video (``VideoInit``, ``SampleClip``,
            ``VideoDecode``); the member's bytes reach ``VideoInit`` as ``video_bytes``.
        view_pipeline: Transforms run once per view.
        sources: Optional overrides of the packed sources, by name:
            ``[dict(name='k710', weight=1.0, frame_interval=4), ...]``. Weights follow
            :class:`VideoPretrainDataset`'s rule (every source or none); a packed source not
            named keeps its packed frame interval.
        data_root: Prefix of ``shards``.
        **kwargs: :class:`VideoPretrainDataset` arguments (``num_sample``, ``seed``,
            ``max_bad_ratio``, ``min_tried``, ``max_retries``, ``serialize_data``...).
    """

    def __init__(self,
                 shards: Union[str, Sequence[str]],
                 pipeline: Sequence,
                 view_pipeline: Sequence = (),
                 sources: Optional[Sequence[Dict]] = None,
                 data_root: str = '',
                 **kwargs) -> None:
        shard_dirs = [shards] if isinstance(shards, str) else list(shards)
        self.shard_dirs = [osp.join(data_root, d) for d in shard_dirs]
        self._indexes = [read_index(d) for d in self.shard_dirs]
        packed = [dict(src, pack=p) for p, index in enumerate(self._indexes)
                  for src in index['sources']]
        names = [src['name'] for src in packed]
        if len(set(names)) != len(names):
            raise ValueError(f'source names repeat across the packs {self.shard_dirs}: {names}')
        overrides = {o['name']: dict(o) for o in sources or ()}
        unknown = set(overrides) - set(names)
        if unknown:
            raise ValueError(f'sources {sorted(unknown)} are not in the packs (packed: {names})')
        merged = []
        for src in packed:
            over = overrides.get(src['name'], {})
            merged.append(dict(
                # the index stands for the list file VideoPretrainDataset would read
                ann_file=osp.join(self.shard_dirs[src['pack']], INDEX_NAME),
                name=src['name'],
                frame_interval=over.get('frame_interval', src.get('frame_interval')),
                **({'weight': over['weight']} if 'weight' in over else {})))
        self.reader = ShardReader()
        super().__init__(sources=merged, pipeline=pipeline, view_pipeline=view_pipeline,
                         data_root=data_root, **kwargs)
        # the member's bytes are read inside the loading pipeline, so that a short or corrupt
        # read is a bad sample (counted, replaced), like a broken file of a list-file source
        self.pipeline.transforms.insert(0, self._read_member)

    def load_data_list(self) -> List[dict]:
        """One entry per packed clip, in shard order; records ``shard_ranges`` (the index range
        of each shard, for the sampler) and each source's indices (for weights and retries)."""
        data_list: List[dict] = []
        self.shard_ranges: List[Tuple[int, int]] = []
        source_base = 0
        by_source: List[List[int]] = [[] for _ in self.sources]
        for shard_dir, index in zip(self.shard_dirs, self._indexes):
            for shard in index['shards']:
                path = osp.join(shard_dir, shard['file'])
                lo = len(data_list)
                for offset, size, crc32, source, name, start in shard['members']:
                    s = source_base + source
                    sample = dict(filename=name, start_index=start, label=-1, source_idx=s,
                                  shard=path, offset=offset, size=size, crc32=crc32)
                    if self.sources[s].get('frame_interval') is not None:
                        sample['frame_interval'] = self.sources[s]['frame_interval']
                    by_source[s].append(len(data_list))
                    data_list.append(sample)
                self.shard_ranges.append((lo, len(data_list)))
            source_base += len(index['sources'])
        for s, members in enumerate(by_source):
            if not members:
                raise ValueError(f'source {self.sources[s]["name"]} has no clips in its pack')
        self.source_members = [np.asarray(m, dtype=np.int64) for m in by_source]
        # VideoPretrainDataset's ranges, by count (the sources interleave across the shards)
        self.source_ranges = [(0, len(m)) for m in by_source]
        return data_list

    def source_of(self, idx: int) -> int:
        return int(self.get_data_info(idx)['source_idx'])

    def _member(self, source: int, rng: np.random.Generator) -> int:
        """A uniformly drawn clip of ``source`` (its clips are an index array here, not a
        contiguous range)."""
        members = self.source_members[source]
        return int(members[rng.integers(len(members))])

    def _read_member(self, results: dict) -> dict:
        results['video_bytes'] = self.reader.read(results['shard'], results['offset'],
                                                  results['size'], results['crc32'],
                                                  results['filename'])
        return results
