"""tools/data/build_k710_lists.py on small Kinetics-style CSVs."""
import os.path as osp
import subprocess
import sys

import pytest

from tests.helpers.recipes import REPO
from vmae2.label_maps import load_class_names

TOOL = osp.join(REPO, 'tools', 'data', 'build_k710_lists.py')
HEADER = 'label,youtube_id,time_start,time_end,split\n'


def _csv(path, rows):
    with open(path, 'w') as f:
        f.write(HEADER + ''.join(f'{lb},{yt},{s},{e},x\n' for lb, yt, s, e in rows))
    return str(path)


@pytest.fixture
def csvs(tmp_path):
    k710 = load_class_names('k710')
    k400, k600, k700 = (load_class_names(k) for k in ('k400', 'k600', 'k700'))
    files = dict(
        k400_train=_csv(tmp_path / 'k400_train.csv', [
            (k400[0], 'aaa', 0, 10),
            ('dying hair', 'bbb', 5, 15),            # old spelling of "dyeing hair"
            (k400[1], 'valvid', 0, 10),              # in K600's val split: dropped
            ('"throwing ball"', 'ccc', 1, 11)]),     # a K710 class of its own: not merged
        k400_val=_csv(tmp_path / 'k400_val.csv', [(k400[2], 'v400', 0, 10)]),
        k600_train=_csv(tmp_path / 'k600_train.csv', [
            (k400[0], 'aaa', 0, 10),                 # same video as in K400: kept once
            (k600[-1], 'ddd', 2, 12)]),
        k600_val=_csv(tmp_path / 'k600_val.csv', [(k400[1], 'valvid', 0, 10)]),
        k700_train=_csv(tmp_path / 'k700_train.csv', [('drinking', 'eee', 3, 13),
                                                      (k700[-1], 'fff', 0, 10)]),
        k700_val=_csv(tmp_path / 'k700_val.csv', [(k400[2], 'v400', 0, 10)]))  # dup of K400 val
    return files, k710


def _read(path):
    with open(path) as f:
        return [line.split() for line in f]


def test_k710_lists_from_csvs(csvs, tmp_path):
    files, k710 = csvs
    out = tmp_path / 'out'
    args = [sys.executable, TOOL, '--out-dir', str(out)]
    for key, path in files.items():
        args += [f'--{key.replace("_", "-")}', path]
    res = subprocess.run(args, capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    train = _read(out / 'k710_train_list_videos.txt')
    val = _read(out / 'k710_val_list_videos.txt')
    k400, k600, k700 = (load_class_names(k) for k in ('k400', 'k600', 'k700'))
    assert train == [
        ['k400/train/aaa_000000_000010.mp4', str(k710.index(k400[0]))],
        ['k400/train/bbb_000005_000015.mp4', str(k710.index('dyeing hair'))],
        ['k400/train/ccc_000001_000011.mp4', str(k710.index('throwing ball'))],
        ['k600/train/ddd_000002_000012.mp4', str(k710.index(k600[-1]))],
        ['k700/train/eee_000003_000013.mp4', str(k710.index('sipping cup'))],
        ['k700/train/fff_000000_000010.mp4', str(k710.index(k700[-1]))],
    ]
    assert val == [['k400/val/v400_000000_000010.mp4', str(k710.index(k400[2]))],
                   ['k600/val/valvid_000000_000010.mp4', str(k710.index(k400[1]))]]
    # "throwing ball" and its long form are two K710 classes, rows 348 and 629 of the head
    long_form = 'throwing ball (not baseball or American football)'
    assert (k710.index('throwing ball'), k710.index(long_form), len(k710)) == (348, 629, 710)
    assert 'videos, ' in res.stdout


def test_k710_official_head_order_and_unknown_names(tmp_path):
    sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
    try:
        from build_k710_lists import build_k710
    finally:
        sys.path.pop(0)
    k710 = load_class_names('k710')
    # every K400 class lands on its official K710 row (label_710to400.json)
    from vmae2.label_maps import load_k710_index
    rows = [(name, f'y{i}', 0, 10) for i, name in enumerate(load_class_names('k400'))]
    lists = build_k710({'k400': {'train': _csv(tmp_path / 't.csv', rows)}})
    assert [lb for _, lb in lists['train']] == load_k710_index('k400')
    assert k710[0] == 'riding a bike'  # official order, not alphabetical
    with pytest.raises(ValueError, match='not K710 classes'):
        build_k710({'k400': {'train': _csv(tmp_path / 'bad.csv', [('no such class', 'z', 0, 1)])}})
