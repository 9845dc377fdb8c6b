"""tools/data/build_list.py: readable videos and frame folders listed, bad ones reported."""
import importlib.util
import os.path as osp
import shutil

import cv2
import numpy as np

from vmae2.datasets import parse_list_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'build_list', osp.join(REPO, 'tools', 'data', 'build_list.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_videos_listed_and_bad_skipped(tmp_path, test_data_root, capsys):
    root = tmp_path / 'videos'
    (root / 'a').mkdir(parents=True)
    shutil.copy(osp.join(test_data_root, 'videos', 'pool_cleaning.mp4'), root / 'a' / 'x.mp4')
    shutil.copy(osp.join(test_data_root, 'videos', 'eye_makeup.avi'), root / 'y.avi')
    (root / 'broken.mp4').write_bytes(b'not a video at all' * 50)
    out = tmp_path / 'list.txt'
    lines, bad = _tool().main([str(root), str(out), '--relative'])
    assert sorted(lines) == ['a/x.mp4 0 -1', 'y.avi 0 -1']
    assert len(bad) == 1 and 'broken.mp4' in bad[0]
    printed = capsys.readouterr().out
    assert 'wrote 2 entries (464 frames)' in printed and 'skipped 1 unreadable' in printed
    rows = parse_list_file(str(out), root=str(root))
    assert {osp.basename(r['filename']) for r in rows} == {'x.mp4', 'y.avi'}


def test_frame_folders(tmp_path):
    root = tmp_path / 'frames'
    for name, n, start in (('v1', 5, 1), ('v2', 3, 0)):
        d = root / name
        d.mkdir(parents=True)
        for i in range(start, start + n):
            cv2.imwrite(str(d / f'img_{i:05}.jpg'), np.zeros((8, 8, 3), np.uint8))
    gap = root / 'v3'
    gap.mkdir()
    for i in (1, 2, 5):
        cv2.imwrite(str(gap / f'img_{i:05}.jpg'), np.zeros((8, 8, 3), np.uint8))
    lines, bad = _tool().main([str(root), str(tmp_path / 'f.txt'), '--frames', '--relative'])
    assert sorted(lines) == ['v1 1 5', 'v2 0 3']
    assert len(bad) == 1 and 'v3' in bad[0] and 'gaps' in bad[0]
