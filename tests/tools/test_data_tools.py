import os.path as osp
import runpy
import shutil
import sys

import cv2
import numpy as np

from tests.helpers import REPO
from vmae2.datasets import parse_list_file


def run_tool(capsys, monkeypatch, script, *args):
    """Runs a tool's ``__main__`` in this process (a subprocess would re-import torch & co)."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, 'argv', [script, *args])
    runpy.run_path(osp.join(REPO, script), run_name='__main__')
    return capsys.readouterr().out


def test_build_list_videos_skips_unreadable(tmp_path, synthetic_root, capsys, monkeypatch):
    root = tmp_path / 'videos'
    (root / 'sub').mkdir(parents=True)
    shutil.copy(osp.join(synthetic_root, 'videos', 'c0_0000.mp4'), root / 'a.mp4')
    shutil.copy(osp.join(synthetic_root, 'videos', 'c1_0000.mp4'), root / 'sub' / 'b.mp4')
    (root / 'broken.mp4').write_bytes(b'\x00' * 100)
    (root / 'notes.txt').write_text('not a video')
    out_file = tmp_path / 'list.txt'
    stdout = run_tool(capsys, monkeypatch, 'tools/data/build_list.py', str(root), str(out_file))
    assert out_file.read_text().splitlines() == ['a.mp4 0 -1', 'sub/b.mp4 0 -1']
    assert 'wrote 2 entries' in stdout and 'min 32, max 32, total 64' in stdout
    assert 'skipped 1 unreadable' in stdout and 'broken.mp4' in stdout
    samples = parse_list_file(str(out_file), root=str(root))
    assert samples[1]['filename'] == str(root / 'sub' / 'b.mp4')


def test_build_list_frame_folders(tmp_path, capsys, monkeypatch):
    img = np.zeros((8, 8, 3), np.uint8)
    for name, numbers in [('clip_a', range(1, 6)), ('clip_b', range(0, 3)), ('gap', [1, 2, 4])]:
        (tmp_path / 'frames' / name).mkdir(parents=True)
        for i in numbers:
            cv2.imwrite(str(tmp_path / 'frames' / name / f'img_{i:05}.jpg'), img)
    out_file = tmp_path / 'frames.txt'
    stdout = run_tool(capsys, monkeypatch, 'tools/data/build_list.py', str(tmp_path / 'frames'),
                      str(out_file), '--frames')
    assert out_file.read_text().splitlines() == ['clip_a 1 5', 'clip_b 0 3']
    assert 'gap' in stdout and 'have gaps' in stdout


def test_benchmark_pipeline_reports_speed(synthetic_root, capsys, monkeypatch):
    stdout = run_tool(capsys, monkeypatch, 'tools/analysis_tools/benchmark_pipeline.py',
                      'configs/_base_/datasets/synthetic_motion_pretrain.py', '--list',
                      osp.join(synthetic_root, 'pretrain_list.txt'), '--root', synthetic_root,
                      '--num-clips', '6', '--warmup', '1')
    assert "6 clips from 24 videos, 2 views each, decoders used: {'decord': 6}" in stdout
    assert 'clips/s' in stdout and 'views/s' in stdout
    assert 'decode  VideoDecode' in stdout and 'augment MultiScaleCrop' in stdout
