"""Build the Kinetics-710 train / val list files from Kinetics-400/600/700 annotations.

K710 (VideoMAE V2, Sec. 4.1) unites the three Kinetics sets: 710 classes in the official head
order (``vmae2/label_maps/label_map_k710.txt``), training on every train video of the three
sets *except* those in any of their validation sets, each video once.

    python tools/data/build_k710_lists.py --out-dir data/kinetics710 \
        --k400-train kinetics400/train.csv --k400-val kinetics400/validate.csv \
        --k600-train kinetics600/train.csv --k600-val kinetics600/validate.csv \
        --k700-train kinetics700/train.csv --k700-val kinetics700/validate.csv

Inputs, per set and split (any subset of the six may be given):

* an official CSV ``label,youtube_id,time_start,time_end,split`` (header line; ``split`` may be
  absent): the video is ``<set>/<split>/<youtube_id>_<start:06d>_<end:06d>.mp4`` and a video's
  identity is ``(youtube_id, start, end)``;
* an mmaction2 ``path label`` list (any other extension) with ``--<set>-label-map FILE``, the
  class names in the order of the list's label indices: the video is ``<set>/<path>``, its
  identity the file name without extension.

Class names of the original CSVs are mapped onto the K710 names with
``vmae2.label_maps.load_label_merge`` (older spellings, e.g. "dying hair" -> "dyeing
hair"; without its wrong "throwing ball" entry). Outputs ``k710_train_list_videos.txt`` and
``k710_val_list_videos.txt`` (``path label`` lines, label = K710 head index) in ``--out-dir``.
"""
import argparse
import csv
import os
import os.path as osp
import sys
from typing import Dict, Iterator, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from vmae2.label_maps import load_class_names, load_label_merge  # noqa: E402

SETS = ('k400', 'k600', 'k700')
Entry = Tuple[str, str, str]  # (identity, relative path, class name)


def read_csv(path: str, kset: str, split: str) -> Iterator[Entry]:
    """Rows of an official Kinetics CSV as ``(identity, path, class name)``."""
    with open(path, newline='', encoding='utf-8') as f:
        for row in csv.DictReader(f):
            start, end = int(float(row['time_start'])), int(float(row['time_end']))
            ident = f'{row["youtube_id"]}_{start:06d}_{end:06d}'
            yield ident, f'{kset}/{split}/{ident}.mp4', row['label'].strip().strip('"')


def read_list(path: str, kset: str, class_names: List[str]) -> Iterator[Entry]:
    """Lines ``path label`` of an mmaction2 list as ``(identity, path, class name)``."""
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            video, label = line.rsplit(maxsplit=1)
            ident = osp.splitext(osp.basename(video))[0]
            yield ident, f'{kset}/{video}', class_names[int(label)]


def read_any(path: str, kset: str, split: str, label_map: Optional[str]) -> Iterator[Entry]:
    if path.endswith('.csv'):
        return read_csv(path, kset, split)
    if label_map is None:
        raise ValueError(f'{path} is a `path label` list: pass --{kset}-label-map with the class '
                         'names in the order of its label indices')
    with open(label_map, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    return read_list(path, kset, names)


def build_k710(inputs: Dict[str, Dict[str, str]],
               label_maps: Optional[Dict[str, str]] = None) -> Dict[str, List[Tuple[str, int]]]:
    """The K710 lists from ``inputs[set][split] = file``.

    Args:
        inputs: e.g. ``{'k400': {'train': 'train.csv', 'val': 'validate.csv'}, ...}``.
        label_maps: ``{set: file}`` for ``path label`` inputs.

    Returns:
        ``{'train': [(path, k710_index), ...], 'val': [...]}``, each video once (the first set
        naming it wins), train without any video of any val split.

    Raises:
        ValueError: For class names that are not K710 classes even after the merge.
    """
    k710 = {name: i for i, name in enumerate(load_class_names('k710'))}
    merge = load_label_merge()
    label_maps = label_maps or {}
    out: Dict[str, Dict[str, Tuple[str, int]]] = {'train': {}, 'val': {}}
    unknown = set()
    for split in ('val', 'train'):  # val first: the train pass needs every val identity
        for kset in SETS:
            path = inputs.get(kset, {}).get(split)
            if path is None:
                continue
            for ident, video, name in read_any(path, kset, split, label_maps.get(kset)):
                name = merge.get(name, name)
                if name not in k710:
                    unknown.add(name)
                    continue
                if split == 'train' and ident in out['val']:
                    continue  # a validation video of any of the three sets
                out[split].setdefault(ident, (video, k710[name]))
    if unknown:
        raise ValueError(f'{len(unknown)} class names are not K710 classes: '
                         f'{sorted(unknown)[:10]}')
    return {split: list(videos.values()) for split, videos in out.items()}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', required=True, help='where the two list files go')
    for kset in SETS:
        for split in ('train', 'val'):
            parser.add_argument(f'--{kset}-{split}', help=f'{kset} {split} CSV or list')
        parser.add_argument(f'--{kset}-label-map', help=f'class names of {kset} list labels')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = vars(parse_args(argv))
    inputs = {k: {s: args[f'{k}_{s}'] for s in ('train', 'val') if args[f'{k}_{s}']}
              for k in SETS}
    lists = build_k710(inputs, {k: args[f'{k}_label_map'] for k in SETS})
    os.makedirs(args['out_dir'], exist_ok=True)
    for split, rows in lists.items():
        path = osp.join(args['out_dir'], f'k710_{split}_list_videos.txt')
        with open(path, 'w', encoding='utf-8') as f:
            f.writelines(f'{video} {label}\n' for video, label in rows)
        print(f'{path}: {len(rows)} videos, {len({lb for _, lb in rows})} classes')


if __name__ == '__main__':
    main()
