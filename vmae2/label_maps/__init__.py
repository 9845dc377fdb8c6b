"""Kinetics class lists and the K710 -> K400/K600/K700 head index lists shipped in
this folder (from the official VideoMAE V2 repository, MIT)."""
import json
import os.path as osp
from typing import Dict, List, Literal

__all__ = ['LABEL_MAP_DIR', 'load_class_names', 'load_k710_index', 'load_label_merge']

LABEL_MAP_DIR = osp.dirname(osp.abspath(__file__))

Kinetics = Literal['k400', 'k600', 'k700', 'k710']


def load_class_names(dataset: Kinetics) -> List[str]:
    """Class names in the order of the official heads, e.g. 400 names for ``'k400'``."""
    path = osp.join(LABEL_MAP_DIR, f'label_map_{dataset.lower()}.txt')
    if not osp.isfile(path):
        raise FileNotFoundError(f'No label map for {dataset!r} (looked for {path})')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def load_k710_index(dataset: Literal['k400', 'k600', 'k700']) -> List[int]:
    """Entry ``i`` is the K710 head row of class ``i`` of ``dataset``: ``head_710[idx]`` is a
    head for ``dataset``."""
    num = dataset.lower().lstrip('k')
    path = osp.join(LABEL_MAP_DIR, f'label_710to{num}.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'No K710 index list for {dataset!r} (looked for {path})')
    with open(path, encoding='utf-8') as f:
        return [int(i) for i in json.load(f)]


def load_label_merge() -> Dict[str, str]:
    """Old Kinetics spellings -> K710 names, for reading original annotation CSVs.

    The ``"throwing ball"`` entry is left out: K710 keeps "throwing ball" and "throwing ball
    (not baseball or American football)" as separate classes (the index lists say so).
    """
    with open(osp.join(LABEL_MAP_DIR, 'k710_identical_label_merge.json'), encoding='utf-8') as f:
        merge = json.load(f)
    merge.pop('throwing ball', None)
    return merge
