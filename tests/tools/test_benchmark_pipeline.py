"""tools/analysis_tools/benchmark_pipeline.py on the real clips."""
import importlib.util
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_pipeline', osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_pipeline.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_pipeline_counts_and_splits(test_data_root, capsys):
    cfg = osp.join(REPO, 'configs', 'pretrain', 'videomaev2_vit-s-p16_dual-mask_8xb32-800e_k400.py')
    r = _tool().main([cfg, '--videos', osp.join(test_data_root, 'videos'), '--num-clips', '4',
                      '--warmup', '1', '--num-sample', '2'])
    assert r['clips'] == 4 and r['num_sample'] == 2 and r['views'] == 8 and r['bad'] == 0
    assert 0 < r['decode_share'] < 1
    assert r['decode_s'] + r['augment_s'] <= r['wall'] * 1.05
    assert r['views_per_s'] == pytest.approx(2 * r['clips_per_s'])
    assert 'clips/s' in capsys.readouterr().out
