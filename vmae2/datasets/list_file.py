"""Parsing of the two list-file layouts a video source can be declared with.

* the official VideoMAE V2 layout, ``path start_idx total_frames``: ``total_frames < 0`` marks a
  video file, otherwise ``path`` is a folder of ``total_frames`` frame images named by a file
  template from ``start_idx`` on (``img_{:05}.jpg`` -> ``img_00001.jpg`` when ``start_idx=1``);
* mmaction2's layout, ``path label`` (or ``path`` alone): always a video file.

The layout is told by the number of columns, so one parser reads both. A malformed line is a
configuration error, not bad data: it fails at start-up with the file name and line number rather
than being skipped, because a silently shortened list would change the experiment.
"""
import os.path as osp
from typing import Dict, List, Literal, Optional

Layout = Literal['auto', 'official', 'labelled']


class ListFileError(ValueError):
    """A list file that cannot be parsed; the message names the file and the line."""


def _fail(ann_file: str, lineno: int, line: str, why: str) -> None:
    raise ListFileError(f'{ann_file}:{lineno}: {why}: {line!r}')


def _parse_int(ann_file: str, lineno: int, line: str, field: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        _fail(ann_file, lineno, line, f'{field} must be an integer, got {text!r}')


def parse_list_file(ann_file: str,
                    root: str = '',
                    layout: Layout = 'auto',
                    filename_tmpl: str = 'img_{:05}.jpg',
                    delimiter: Optional[str] = None) -> List[Dict]:
    """Reads a list file into one dict per sample.

    Args:
        ann_file: Path of the list file. Blank lines and lines starting with ``#`` are ignored.
        root: Folder the paths in the file are relative to (an absolute path in the file wins,
            as with ``os.path.join``).
        layout: ``'official'`` (3 columns), ``'labelled'`` (1 or 2 columns) or ``'auto'`` (told
            line by line from the number of columns).
        filename_tmpl: File template of frame folders, formatted with the frame number.
        delimiter: Column separator; ``None`` splits on any run of whitespace.

    Returns:
        A list of dicts, each with ``filename`` (video) or ``frame_dir`` + ``filename_tmpl`` +
        ``total_frames`` (frame folder), ``start_index`` and ``label`` (-1 when unlabelled).

    Raises:
        FileNotFoundError: ``ann_file`` does not exist.
        ListFileError: a line has the wrong number of columns or a non-integer number.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'list file not found: {ann_file}')
    samples = []
    with open(ann_file, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            cols = line.split(delimiter)
            n = len(cols)
            expected = {'official': (3, ), 'labelled': (1, 2), 'auto': (1, 2, 3)}[layout]
            if n not in expected:
                _fail(ann_file, lineno, line,
                      f'expected {" or ".join(map(str, expected))} columns ({layout} layout), '
                      f'got {n}')
            path = osp.join(root, cols[0])
            if n == 3:
                start = _parse_int(ann_file, lineno, line, 'start_idx', cols[1])
                total = _parse_int(ann_file, lineno, line, 'total_frames', cols[2])
                if start < 0:
                    _fail(ann_file, lineno, line, 'start_idx must be >= 0')
                if total < 0:
                    samples.append(dict(filename=path, start_index=start, label=-1))
                elif total == 0:
                    _fail(ann_file, lineno, line, 'a frame folder with 0 frames')
                else:
                    samples.append(
                        dict(
                            frame_dir=path,
                            filename_tmpl=filename_tmpl,
                            total_frames=total,
                            start_index=start,
                            label=-1))
            else:
                label = _parse_int(ann_file, lineno, line, 'label', cols[1]) if n == 2 else -1
                samples.append(dict(filename=path, start_index=0, label=label))
    return samples


def format_official_line(path: str, start_idx: int, total_frames: int) -> str:
    """One line of the official layout; ``total_frames=-1`` for a video file."""
    if len(path.split()) != 1:
        raise ValueError(f'paths with whitespace cannot be written to a list file: {path!r}')
    return f'{path} {start_idx} {total_frames}'
