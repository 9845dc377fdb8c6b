"""benchmark_pretrain.py runs a config's training step per variant and reports time, memory,
the step's FLOPs (get_flops' count), the GEMM roofline measured in the same run and the
fraction of it; ``--profile`` adds a per-op breakdown. (``--compile`` builds with inductor for
minutes; ``tests/models/test_compile.py`` covers the switch.)"""
import os.path as osp
import re
import subprocess
import sys

import pytest
from mmengine.config import Config

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


def run_tool(tmp_path, *extra):
    cfg = tmp_path / 'tiny_pretrain.py'
    cfg.write_text(CONFIG)
    out = subprocess.run([sys.executable, TOOL, str(cfg), '--shape', '4', '32', '32', '--iters',
                          '2', '--warmup', '1', '--threads', '1', '--gemm-shape', '64', '64',
                          '64', *extra], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout, str(cfg)


def table_rows(lines, first_col):
    rows = [[c.strip() for c in line.split('|')] for line in lines if '|' in line]
    return [r for r in rows if r[0].startswith(first_col)]


def test_matrix_attention_kernels_roofline_and_profile(tmp_path):
    stdout, cfg = run_tool(tmp_path, '--matrix', '--attn-impl', 'sdpa', 'math', '--profile')
    lines = stdout.splitlines()
    roof = re.search(r'fp32 ([\d.]+) GFLOP/s, bf16 ([\d.]+) GFLOP/s', stdout)
    assert roof and float(roof[1]) > 0 and float(roof[2]) > 0
    header = next(line for line in lines if line.startswith('tiny_pretrain:'))
    assert 'batch 2, clip 4x32x32' in header and 'threads 1' in header

    # the FLOPs are get_flops' count of the same model: 2 x 3 x MACs x batch
    import torch

    import vmae2.models  # noqa: F401
    from vmae2.analysis import count_flops
    from vmae2.registry import MODELS
    with torch.device('meta'):
        model = MODELS.build(Config.fromfile(cfg).model)
    expected = {dual: 2 * 3 * 2 * count_flops(model, (4, 32, 32), 'meta', dual=dual)
                for dual in (True, False)}
    assert f'dual {expected[True] / 6 / 2:.2f}' in header

    rows = table_rows(lines, ('fp32', 'bf16'))
    names = {r[0] for r in rows}
    assert names == {f'{p} {m} attn={a}' for p in ('fp32', 'bf16')
                     for m in ('dual', 'encoder-only') for a in ('sdpa', 'math')}
    for r in rows:
        median, clips, gflop, rate, roofline = map(float, r[1:2] + r[3:7])
        fraction, mem = float(r[7].rstrip('%')) / 100, float(r[8])
        assert 0 < median < 60 and clips == pytest.approx(2 / median, rel=1e-3)
        assert gflop == pytest.approx(expected['dual' in r[0].split()], rel=1e-3)
        assert rate == pytest.approx(gflop / median, rel=1e-3)
        assert roofline == pytest.approx(float(roof[1] if r[0].startswith('fp32') else roof[2]),
                                         rel=1e-3)
        assert fraction == pytest.approx(rate / roofline, rel=0.02, abs=1e-3)
        assert 0.05 < mem < 64
    # the reference matmul timed between the steps, and each step's fraction of its median rate
    along = next(line for line in lines if line.startswith('reference GEMM timed between'))
    rates = re.search(r'fp32 ([\d.]+) GFLOP/s, bf16 ([\d.]+) GFLOP/s;', along)
    assert rates and float(rates[1]) > 0 and float(rates[2]) > 0
    for r in rows:
        share = float(re.search(re.escape(r[0]) + r' ([\d.]+)%', along)[1]) / 100
        expect = float(r[5]) / float(rates[1] if r[0].startswith('fp32') else rates[2])
        assert share == pytest.approx(expect, rel=0.02, abs=1e-3)
    assert not any(r[0].startswith('reference') for r in table_rows(lines, 'reference GEMM '))
    # one profile per variant, the kinds' times add up to the summed op time
    assert stdout.count('--profile: ') == 8
    block = stdout.split('--profile: bf16 dual attn=math')[1]
    total = float(re.search(r'([\d.]+) s summed op self time', block)[1])
    kinds = [r for r in table_rows(block.split('\n\n')[0].splitlines(), '')
             if r[0] != 'kind' and not r[0].startswith('-')]
    assert abs(sum(float(k[1]) for k in kinds) - total) <= 0.002 * len(kinds) + 1e-3
    assert 'softmax' in {k[0] for k in kinds}  # the explicit path's softmax, not an SDPA kernel
    sdpa = stdout.split('--profile: bf16 dual attn=sdpa')[1].split('--profile:')[0]
    assert 'attention (SDPA kernel)' in sdpa
