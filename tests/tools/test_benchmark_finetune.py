"""benchmark_finetune.py: a classifier's train step and inference per worker process, side by
side with another checkout (here: this one again, so both must agree exactly), against the
roofline measured in the same run."""
import os.path as osp
import re
import subprocess
import sys

import pytest

from tests.helpers import REPO

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_finetune.py')

CONFIG = """
model = dict(
    type='VideoMAERecognizer',
    backbone=dict(type='VideoViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                            feedforward_channels=64, patch_size=16),
                  use_mean_pooling=True, drop_path_rate=0.1),
    cls_head=dict(type='VideoMAEHead', num_classes=400, dropout_ratio=0.5, init_scale=0.001,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
"""


def run_tool(tmp_path, *extra):
    cfg = tmp_path / 'tiny_cls.py'
    cfg.write_text(CONFIG)
    out = subprocess.run([sys.executable, TOOL, str(cfg), '--shape', '4', '32', '32',
                          '--iters', '2', '--warmup', '1', '--threads', '1', '--gemm-shape',
                          '64', '64', '64', *extra],
                         capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def rows(stdout):
    table = [[c.strip() for c in line.split('|')] for line in stdout.splitlines()
             if '|' in line]
    return [r for r in table if r[0] in ('this', 'other')]


def test_side_by_side_train_and_inference_agree_and_report(tmp_path):
    stdout = run_tool(tmp_path, '--compare-with', REPO, '--modes', 'train', 'infer',
                      '--precisions', 'bf16')
    roof = float(re.search(r'bf16 ([\d.]+) GFLOP/s', stdout)[1])
    assert 'batch 2, clip 4x32x32' in stdout and 'wall clock' in stdout
    table = rows(stdout)
    assert [tuple(r[:3]) for r in table] == [
        ('this', 'train', 'bf16'), ('other', 'train', 'bf16'),
        ('this', 'infer', 'bf16'), ('other', 'infer', 'bf16')]
    gmacs = float(re.search(r'forward GMACs/clip ([\d.]+)', stdout)[1])
    for r in table:
        median, gflop, rate = float(r[3]), float(r[6]), float(r[7])
        passes = 3 if r[1] == 'train' else 1
        assert gflop == pytest.approx(2 * passes * gmacs * 2, rel=0.01)
        assert rate == pytest.approx(gflop / median, rel=0.01)
        assert float(r[8].rstrip('%')) / 100 == pytest.approx(rate / roof, rel=0.01, abs=1e-3)
        assert 0.05 < float(r[9]) < 64  # its own process's peak RSS
        assert float(r[10].rstrip('x')) > 0  # other / this
    # the same code, weights, data and RNG: identical losses and scores
    m = re.search(r'loss this ([\d.]+), other ([\d.]+) at the first step; largest relative '
                  r'difference over the 3 steps ([\d.e+-]+)', stdout)
    assert m and m[1] == m[2] and float(m[3]) == 0.0
    m = re.search(r'class scores: largest difference ([\d.e+-]+) \(the scores span '
                  r'([\d.e+-]+)\)', stdout)
    assert m and float(m[1]) == 0.0 and float(m[2]) > 1e-3  # a real check, not uniform scores
