"""get_flops.py reproduces the paper's counts (multiply-adds per clip, 16x224x224)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

import vmae2.models  # noqa: F401
from tests.helpers import REPO
from vmae2.analysis import count_flops
from vmae2.models import VideoMAEV2

CONFIGS = osp.join(REPO, 'configs')
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'get_flops.py')


def test_cli_table_matches_paper():
    out = subprocess.run(
        [sys.executable, TOOL, '--both',
         osp.join(CONFIGS, 'pretrain', 'videomaev2_vit-b-p16_dual-mask_8xb32-800e_k400.py'),
         osp.join(CONFIGS, '_base_', 'models', 'vit-s-p16_cls.py'),
         osp.join(CONFIGS, '_base_', 'models', 'vit-b-p16_cls.py')],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [[c.strip() for c in line.split('|')] for line in out.stdout.splitlines()[2:]]
    got = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows}
    enc = got[('videomaev2_vit-b-p16_dual-mask_8xb32-800e_k400', 'pretrain, encoder-only masking')]
    dual = got[('videomaev2_vit-b-p16_dual-mask_8xb32-800e_k400', 'pretrain, dual masking')]
    assert enc[1] == pytest.approx(35.48, rel=0.02)
    assert dual[1] == pytest.approx(25.87, rel=0.02)
    assert got[('vit-s-p16_cls', 'per view')] == (22.0, pytest.approx(57, rel=0.02))
    assert got[('vit-b-p16_cls', 'per view')] == (86.5, pytest.approx(180, rel=0.02))


def test_vit_g_pretraining_on_meta():
    with torch.device('meta'):
        model = VideoMAEV2(dict(arch='g'), dict(embed_dims=512, num_heads=8))
    assert count_flops(model, dual=False) == pytest.approx(263.93, rel=0.02)
    assert count_flops(model, dual=True) == pytest.approx(241.61, rel=0.02)


def test_sdpa_counted_on_cpu_like_on_meta():
    """PyTorch's counter misses the CPU attention kernel: our handler must count it."""
    arch = dict(embed_dims=64, num_layers=1, num_heads=2, feedforward_channels=64, patch_size=16)
    torch.manual_seed(0)
    model = VideoMAEV2(dict(arch=arch), dict(embed_dims=32, num_heads=2, num_layers=1))
    cpu = count_flops(model, (4, 64, 64), device='cpu')
    with torch.device('meta'):
        meta_model = VideoMAEV2(dict(arch=arch), dict(embed_dims=32, num_heads=2, num_layers=1))
    assert cpu == pytest.approx(count_flops(meta_model, (4, 64, 64)), rel=1e-9)
    # by hand: 32 tokens (2x4x4), 8 visible (4 per step), 16 queries (cell 0.5)
    N, nv, nq, D, Dd = 32, 2 * (16 - int(0.9 * 16)), 16, 64, 32
    embed = N * 3 * 2 * 16 * 16 * D
    enc = nv * (4 * D * D + 2 * D * 64) + 2 * nv * nv * D
    nd = nv + nq
    dec = nd * (4 * Dd * Dd + 2 * Dd * 32) + 2 * nd * nd * Dd  # MLP ratio 1, as the encoder
    e2d, head = nv * D * Dd, nq * Dd * 3 * 2 * 16 * 16
    assert cpu * 1e9 == pytest.approx(embed + enc + dec + e2d + head, rel=1e-9)
