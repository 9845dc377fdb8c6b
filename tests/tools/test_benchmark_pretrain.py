"""benchmark_pretrain.py runs a config's training step and prints time and memory."""
import os.path as osp
import subprocess
import sys

from tests.helpers import REPO

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_pretrain.py')

CONFIG = """
model = dict(
    type='VideoMAEV2',
    backbone=dict(type='VideoViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                            feedforward_channels=64, patch_size=16)),
    decoder=dict(embed_dims=16, num_heads=2, num_layers=1),
    encoder_mask=dict(type='TubeMaskGenerator', ratio=0.75),
    decoder_mask=dict(type='RunningCellMaskGenerator', ratio=0.5))
"""


def test_matrix_runs_and_reports(tmp_path):
    cfg = tmp_path / 'tiny_pretrain.py'
    cfg.write_text(CONFIG)
    out = subprocess.run([sys.executable, TOOL, str(cfg), '--shape', '4', '32', '32', '--iters',
                          '2', '--warmup', '1', '--threads', '1', '--matrix'],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert 'batch 2, clip 4x32x32' in lines[0] and 'threads 1' in lines[0]
    rows = [[c.strip() for c in line.split('|')] for line in lines[2:]]
    assert {(r[0], r[1]) for r in rows} == {('fp32', 'dual'), ('fp32', 'encoder-only'),
                                           ('bf16', 'dual'), ('bf16', 'encoder-only')}
    for r in rows:
        median, clips, mem = float(r[2]), float(r[4]), float(r[5])
        assert 0 < median < 60 and clips > 0 and 0.05 < mem < 64
