"""Readers of the AVA annotation files that name the file and line of anything wrong.

AVA ships four kinds of files; mmaction2 reads each with a bare ``split(',')`` and some
asserts, so a malformed row either crashes deep inside (``'Wrong number of columns: ' + row``
is itself a ``TypeError``) or, worse, is quietly turned into a wrong label: an action id that is
not in the label list is trained on and then silently dropped by the evaluation. Here:

* a row with the wrong number of columns or a non-number where a number belongs is an
  :class:`AVAAnnotationError` naming ``file:line``;
* a box outside ``[0, 1]`` (or empty) is an error by default, or, with ``on_bad_box='clip'``,
  clipped (dropped when nothing is left), counted and logged with examples;
* an action id outside the label list is, by default (``on_unknown='warn'``), dropped, counted
  and logged with examples, so training and evaluation see the same classes; ``'error'``
  raises, ``'keep'`` keeps it (mmaction2's behaviour, counted all the same).

The label list is the pbtxt form of the official evaluation (``label { name: ... label_id: N }``
or ``item { name: ... id: N }``); a file in which no class is found is an error rather than an
empty class list.
"""
import csv
import logging
import pickle
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Set, Tuple

import numpy as np
from mmengine.logging import print_log

__all__ = ['AVAAnnotationError', 'AVARow', 'AnnotationReport', 'read_label_map', 'read_annotations',
           'read_exclusions', 'load_proposals', 'make_image_key']

GT_COLUMNS = 'video_id,timestamp,x1,y1,x2,y2,action_id,person_id'


class AVAAnnotationError(ValueError):
    """A malformed AVA annotation file; the message starts with ``file:line``."""


def make_image_key(video_id: str, timestamp) -> str:
    """``'video_id,TTTT'``: the key of a keyframe in CSVs, proposals and results."""
    return f'{video_id},{int(timestamp):04d}'


@dataclass
class AVARow:
    """One annotation row: the box of ``person_id`` at ``timestamp`` doing ``action_id``."""
    video_id: str
    timestamp: int
    box: Tuple[float, float, float, float]  # x1, y1, x2, y2 in [0, 1]
    action_id: int
    person_id: int
    line: int

    @property
    def img_key(self) -> str:
        return make_image_key(self.video_id, self.timestamp)


@dataclass
class AnnotationReport:
    """What a read found wrong but could go on with: counts and a few ``file:line`` examples."""
    path: str
    num_rows: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: Dict[str, List[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, line: int, text: str, max_examples: int = 5) -> None:
        self.counts[kind] += 1
        if len(self.examples[kind]) < max_examples:
            self.examples[kind].append(f'{self.path}:{line}: {text}')

    def log(self) -> None:
        for kind, n in sorted(self.counts.items()):
            print_log(f'{self.path}: {n} of {self.num_rows} rows {kind}; e.g.\n  ' +
                      '\n  '.join(self.examples[kind]), logger='current', level=logging.WARNING)


def read_label_map(path: str) -> Dict[int, str]:
    """``{id: name}`` from a pbtxt label list (``label_id:`` or ``id:`` entries).

    Raises:
        AVAAnnotationError: no class found (e.g. an ``id: name`` text file), an id that is not
            an integer, or an id listed twice.
    """
    classes, name = {}, None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if line.startswith('name:'):
                name = line.split('"')[1] if '"' in line else line[5:].strip()
            elif line.startswith(('label_id:', 'id:')):
                try:
                    cid = int(line.split(':', 1)[1])
                except ValueError:
                    raise AVAAnnotationError(f'{path}:{n}: class id is not an integer: '
                                             f'{line!r}') from None
                if cid in classes:
                    raise AVAAnnotationError(f'{path}:{n}: class id {cid} listed twice')
                classes[cid] = name if name is not None else str(cid)
                name = None
    if not classes:
        raise AVAAnnotationError(
            f'{path}: no class found; an AVA label list is a pbtxt of entries like '
            '`label { name: "stand" label_id: 12 }` (projects/ava/ava_vmae2/label_maps/ ships '
            'the 60-class list)')
    return classes


def _float(path: str, n: int, value: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise AVAAnnotationError(f'{path}:{n}: {what} is not a number: {value!r}') from None


def _int(path: str, n: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise AVAAnnotationError(f'{path}:{n}: {what} is not an integer: {value!r}') from None


def read_annotations(path: str,
                     class_ids: Optional[Set[int]] = None,
                     on_unknown: Literal['warn', 'error', 'keep'] = 'warn',
                     on_bad_box: Literal['error', 'clip'] = 'error',
                     num_columns: Tuple[int, ...] = (8, ),
                     log: bool = True) -> Tuple[List[AVARow], AnnotationReport]:
    """Reads an AVA CSV (``video_id,timestamp,x1,y1,x2,y2,action_id,person_id``).

    Args:
        path: The CSV.
        class_ids: Ids of the label list; None accepts every id.
        on_unknown: What to do with an id outside ``class_ids`` (see the module doc).
        on_bad_box: ``'error'`` or ``'clip'`` for boxes outside [0, 1] or empty.
        num_columns: Accepted column counts; a 7-column row has no person id (the official
            evaluation's ground-truth reader accepts 7 or 8), it gets ``-1``.
        log: Log the report's counts (warnings) when anything was counted.

    Returns:
        The rows kept and the report of what was dropped, clipped or kept though unknown.

    Raises:
        AVAAnnotationError: naming ``path:line`` (see the module doc).
    """
    if on_unknown not in ('warn', 'error', 'keep') or on_bad_box not in ('error', 'clip'):
        raise ValueError(f'on_unknown must be warn/error/keep and on_bad_box error/clip, got '
                         f'{on_unknown!r}, {on_bad_box!r}')
    rows, report = [], AnnotationReport(path)
    with open(path, newline='') as f:
        for n, cols in enumerate(csv.reader(f), 1):
            if not cols or (len(cols) == 1 and not cols[0].strip()):
                continue  # blank line
            report.num_rows += 1
            text = ','.join(cols)
            if len(cols) not in num_columns:
                raise AVAAnnotationError(
                    f'{path}:{n}: expected {" or ".join(map(str, num_columns))} columns '
                    f'({GT_COLUMNS}), got {len(cols)}: {text!r}')
            video_id = cols[0].strip()
            timestamp = _int(path, n, cols[1], 'timestamp')
            box = [_float(path, n, v, name) for v, name in zip(cols[2:6], ('x1', 'y1', 'x2', 'y2'))]
            action_id = _int(path, n, cols[6], 'action_id')
            person_id = _int(path, n, cols[7], 'person_id') if len(cols) > 7 else -1

            if min(box) < 0 or max(box) > 1 or box[2] <= box[0] or box[3] <= box[1]:
                if on_bad_box == 'error':
                    raise AVAAnnotationError(
                        f'{path}:{n}: box {box} is not inside [0, 1] with x1 < x2 and y1 < y2 '
                        f"(pass on_bad_box='clip' to clip such boxes): {text!r}")
                box = list(np.clip(box, 0, 1))
                if box[2] <= box[0] or box[3] <= box[1]:
                    report.add('dropped: empty box after clipping to [0, 1]', n, text)
                    continue
                report.add('clipped: box outside [0, 1]', n, text)
            if class_ids is not None and action_id not in class_ids:
                if on_unknown == 'error':
                    raise AVAAnnotationError(
                        f'{path}:{n}: action id {action_id} is not in the label list '
                        f"({len(class_ids)} classes; on_unknown='warn' drops such rows): {text!r}")
                if on_unknown == 'warn':
                    report.add('dropped: action id not in the label list', n, text)
                    continue
                report.add('kept: action id not in the label list', n, text)
            rows.append(AVARow(video_id, timestamp, tuple(box), action_id, person_id, n))
    if log and report.counts:
        report.log()
    return rows, report


def read_exclusions(path: Optional[str]) -> Set[str]:
    """Image keys (``'video_id,TTTT'``) of an excluded-timestamps CSV; empty for None.

    Raises:
        AVAAnnotationError: a row that is not ``video_id,timestamp``, naming ``path:line``.
    """
    if path is None:
        return set()
    keys = set()
    with open(path, newline='') as f:
        for n, cols in enumerate(csv.reader(f), 1):
            if not cols or (len(cols) == 1 and not cols[0].strip()):
                continue
            if len(cols) != 2:
                raise AVAAnnotationError(f'{path}:{n}: expected 2 columns (video_id,timestamp), '
                                         f'got {len(cols)}: {",".join(cols)!r}')
            keys.add(make_image_key(cols[0].strip(), _int(path, n, cols[1], 'timestamp')))
    return keys


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts of numpy arrays and nothing else: a proposals file cannot run code."""
    ALLOWED = {('numpy.core.multiarray', '_reconstruct'),
               ('numpy._core.multiarray', '_reconstruct'),
               ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'), ('collections', 'OrderedDict'),
               ('_codecs', 'encode')}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f'proposals files may hold dicts of numpy arrays only, found {module}.{name}')
        return super().find_class(module, name)


def load_proposals(path: str) -> Dict[str, np.ndarray]:
    """``{'video_id,TTTT': (N, 4 or 5) float array [x1, y1, x2, y2(, score)]}`` from a pkl.

    The file is unpickled with an allow-list (numpy arrays, dicts), never ``pickle.load``.

    Raises:
        AVAAnnotationError: not a dict of such arrays, or boxes outside [0, 1], naming the key.
    """
    with open(path, 'rb') as f:
        try:
            data = _ArrayUnpickler(f, encoding='latin1').load()
        except pickle.UnpicklingError as e:
            raise AVAAnnotationError(f'{path}: {e}') from e
    if not isinstance(data, dict):
        raise AVAAnnotationError(f'{path}: expected a dict of image key -> array, got '
                                 f'{type(data).__name__}')
    out = {}
    for key, boxes in data.items():
        boxes = np.asarray(boxes, dtype=np.float32)
        if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
            raise AVAAnnotationError(f'{path}: proposals of {key!r} have shape {boxes.shape}, '
                                     'expected (N, 4) or (N, 5)')
        if boxes.size and (boxes[:, :4].min() < 0 or boxes[:, :4].max() > 1):
            raise AVAAnnotationError(f'{path}: proposals of {key!r} are not normalised to '
                                     f'[0, 1]: min {boxes[:, :4].min()}, max {boxes[:, :4].max()}')
        out[key] = boxes
    return out
