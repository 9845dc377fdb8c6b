"""Configuration mistakes found at start, before any model is built or data is read.

Each error names the config key, so a wrong value is fixed in one edit instead of being found
an hour into a run (or never: a 400-class head evaluated on a 174-class list trains and tests
without an error, on wrong labels). Checked:

* checkpoint paths - ``load_from`` and every ``init_cfg=dict(type='Pretrained',
  checkpoint=...)`` or ``*_ckpt`` key in ``model`` - must exist (URLs and ``scheme://`` paths
  are left to their loaders);
* ``sources`` of pretraining datasets: only the keys :class:`VideoPretrainDataset` knows;
* the classifier's ``num_classes`` against the classes of each dataset it trains or is
  evaluated on: ``metainfo.classes`` (a tuple, or a label-map file with one class a line, as
  MMEngine reads it), a SyntheticMotion generator's ``num_classes``, and the labels of a
  ``path label`` list file (every label must be below ``num_classes``).

And a warning (not an error): an evaluation on a :class:`RobustVideoDataset` whose evaluator
is not :class:`RobustAccMetric` would score the placeholders of unreadable videos as if they
were predictions.
"""
import logging
import os.path as osp
import re
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

from vmae2.datasets import RobustVideoDataset, VideoPretrainDataset
from vmae2.datasets.pretrain_dataset import SOURCE_KEYS
from vmae2.evaluation import RobustAccMetric
from vmae2.registry import DATASETS, METRICS

__all__ = ['ConfigKeyError', 'check_config', 'iter_checkpoint_paths', 'ALL_CHECKS']

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_REMOTE = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*://')


class ConfigKeyError(ValueError):
    """A config value that cannot work; the message starts with its key."""


def _items(node: Any, key: str) -> Iterator[Tuple[str, Any]]:
    """``(dotted key, value)`` of every entry under ``node``."""
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f'{key}.{k}' if key else str(k)
            yield sub, v
            yield from _items(v, sub)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            sub = f'{key}[{i}]'
            yield sub, v
            yield from _items(v, sub)


def iter_checkpoint_paths(cfg: Config, init_cfg: bool = True) -> Iterator[Tuple[str, str]]:
    """``(key, path)`` of the local checkpoint files the config will read: ``load_from``,
    ``model.*_ckpt`` and (``init_cfg=True``) ``Pretrained`` initialisations."""
    if cfg.get('load_from'):
        yield 'load_from', cfg.load_from
    for key, value in _items(cfg.get('model', {}), 'model'):
        if isinstance(value, dict) and value.get('type') == 'Pretrained' \
                and isinstance(value.get('checkpoint'), str):
            if init_cfg:
                yield f'{key}.checkpoint', value['checkpoint']
        elif key.endswith('_ckpt') and isinstance(value, str):
            yield key, value


def _check_paths(cfg: Config, errors: List[str], init_cfg: bool) -> None:
    for key, path in iter_checkpoint_paths(cfg, init_cfg):
        if _REMOTE.match(path):
            continue
        path = osp.expanduser(path)
        # a sharded FSDP checkpoint is a folder of rank files (vmae2.engine.strategies), a
        # DeepSpeed one a folder with mp_rank_00_model_states.pt
        if not (osp.isfile(path) or osp.isfile(osp.join(path, 'rank0.pth'))
                or osp.isfile(osp.join(path, 'mp_rank_00_model_states.pt'))):
            errors.append(f'{key}: checkpoint file not found: {path!r}')


def _dataset_class(ds_cfg: dict):
    try:
        return DATASETS.get(ds_cfg.get('type'))
    except Exception:
        return None


def _check_sources(cfg: Config, errors: List[str]) -> None:
    for loader in LOADERS:
        ds = (cfg.get(loader) or {}).get('dataset')
        if not isinstance(ds, dict):
            continue
        cls = _dataset_class(ds)
        if not (isinstance(cls, type) and issubclass(cls, VideoPretrainDataset)):
            continue
        for i, src in enumerate(ds.get('sources') or []):
            for k in sorted(set(src) - SOURCE_KEYS):
                errors.append(f'{loader}.dataset.sources[{i}].{k}: unknown source key '
                              f'(allowed: {sorted(SOURCE_KEYS)})')


def find_num_classes(model: Any) -> Optional[Tuple[str, int]]:
    """``(key, value)`` of the first ``cls_head.num_classes`` in the model config."""
    for key, value in _items(model or {}, 'model'):
        if key.endswith('cls_head.num_classes') and isinstance(value, int):
            return key, value
    return None


def _classes_of(ds: dict, data_root_key: str) -> Optional[Tuple[str, int]]:
    """``(key, count)`` of the classes a dataset config declares, if it declares any."""
    classes = (ds.get('metainfo') or {}).get('classes')
    if isinstance(classes, (list, tuple)):
        return f'{data_root_key}.metainfo.classes', len(classes)
    if isinstance(classes, str):  # a label map: one class a line
        if not osp.isfile(classes):
            raise ConfigKeyError(f'{data_root_key}.metainfo.classes: label map not found: '
                                 f'{classes!r}')
        with open(classes, encoding='utf-8') as f:
            return f'{data_root_key}.metainfo.classes', sum(1 for line in f if line.strip())
    generator = ds.get('generator')
    if isinstance(generator, dict) and isinstance(generator.get('num_classes'), int):
        return f'{data_root_key}.generator.num_classes', generator['num_classes']
    return None


def _max_label(ann_file: str, delimiter: Optional[str]) -> Optional[Tuple[int, int, str]]:
    """``(label, line number, line)`` of the largest label of a ``path label`` list."""
    best = None
    with open(ann_file, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, start=1):
            cols = raw.strip().split(delimiter)
            if len(cols) != 2:
                continue  # unlabelled, multi-label or another layout: not checked here
            try:
                label = int(cols[1])
            except ValueError:
                continue
            if best is None or label > best[0]:
                best = (label, lineno, raw.strip())
    return best


def _check_num_classes(cfg: Config, errors: List[str]) -> None:
    head = find_num_classes(cfg.get('model'))
    if head is None:
        return
    head_key, num_classes = head
    for loader in LOADERS:
        ds = (cfg.get(loader) or {}).get('dataset')
        if not isinstance(ds, dict) or ds.get('multi_class'):
            continue
        try:
            declared = _classes_of(ds, f'{loader}.dataset')
        except ConfigKeyError as e:
            errors.append(str(e))
            continue
        if declared is not None and declared[1] != num_classes:
            errors.append(f'{head_key}: {num_classes} classes, but {declared[0]} gives '
                          f'{declared[1]}')
        ann = ds.get('ann_file')
        if isinstance(ann, str) and ann and ds.get('data_root') and not osp.isabs(ann):
            ann = osp.join(ds['data_root'], ann)  # as MMEngine's BaseDataset joins them
        if isinstance(ann, str) and ann and osp.isfile(ann) and 'sources' not in ds:
            found = _max_label(ann, None if ds.get('delimiter', ' ') == ' ' else
                               ds.get('delimiter'))
            if found is not None and found[0] >= num_classes:
                errors.append(f'{head_key}: {num_classes} classes, but {loader}.dataset.'
                              f'ann_file {ann} has label {found[0]} (line {found[1]}: '
                              f'{found[2]!r})')


def _warn_scoring(cfg: Config) -> None:
    for split in ('val', 'test'):
        ds = (cfg.get(f'{split}_dataloader') or {}).get('dataset')
        cls = _dataset_class(ds) if isinstance(ds, dict) else None
        if not (isinstance(cls, type) and issubclass(cls, RobustVideoDataset)):
            continue
        evaluator = cfg.get(f'{split}_evaluator')
        metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
        types = [m.get('type') for m in metrics if isinstance(m, dict)]
        robust = [t for t in types if isinstance(t, str) and isinstance(
            METRICS.get(t), type) and issubclass(METRICS.get(t), RobustAccMetric)]
        if types and not robust:
            print_log(f'{split}_evaluator {types}: {split}_dataloader.dataset '
                      f'({ds.get("type")}) stands in for unreadable videos with placeholders '
                      f'that only RobustAccMetric scores as misses; with this evaluator they '
                      f'count as predictions', logger='current', level=logging.WARNING)


ALL_CHECKS = ('paths', 'init_cfg', 'sources', 'classes', 'scoring')


def check_config(cfg: Config, checks: Sequence[str] = ALL_CHECKS) -> None:
    """Runs the start-up checks; raises one error listing every problem found.

    Args:
        cfg: The merged config (command-line options applied).
        checks: Which checks to run: ``'paths'`` (``load_from``, ``model.*_ckpt``),
            ``'init_cfg'`` (``Pretrained`` initialisations, read by training only),
            ``'sources'``, ``'classes'``, ``'scoring'`` (the warning).

    Raises:
        ConfigKeyError: each line names a key and what is wrong with it.
    """
    errors: List[str] = []
    if 'paths' in checks:
        _check_paths(cfg, errors, init_cfg='init_cfg' in checks)
    if 'sources' in checks:
        _check_sources(cfg, errors)
    if 'classes' in checks:
        _check_num_classes(cfg, errors)
    if 'scoring' in checks:
        _warn_scoring(cfg)
    if errors:
        raise ConfigKeyError('config error' + ('s' if len(errors) > 1 else '') + ':\n  ' +
                             '\n  '.join(errors))
