"""The project's tools: FLOPs of the detectors, the demo on a real video, and (slow) the
synthetic training run of the README."""
import importlib.util
import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
from ava_helpers import CONFIGS, PROJECT

from projects.ava.ava_vmae2.synthetic import SYNTHETIC_AVA_ACTIONS
from tests.helpers import DATA_ROOT, REPO

SYNTHETIC = osp.join(CONFIGS, 'synthetic', 'fastrcnn_vit-t-p8_1xb8-8x2x1-20e_synthetic-ava.py')
VIDEO = osp.join(DATA_ROOT, 'videos', 'arm_wrestling_k400.mp4')


def _tool(name):
    """The module of ``projects/ava/<tools|demo>/...py`` under a name of its own."""
    path = osp.join(PROJECT, name, {'tools': 'get_flops', 'demo': 'demo_spatiotemporal'}[name]
                    + '.py')
    spec = importlib.util.spec_from_file_location(f'ava_{name}_module', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_get_flops_of_vit_b_and_g():
    """ViT-B at 16x256x256: ~250 GFLOPs (180 at 224), on the meta device; ViT-g at 252."""
    rows = dict(_tool('tools').main([
        osp.join(CONFIGS, 'fastrcnn_vit-b-p16_8xb8-16x4x1-20e_ava22.py'),
        osp.join(CONFIGS, 'fastrcnn_vit-g-p14_8xb8-16x4x1-20e_ava22.py'),
        '--shape', '16', '256', '256']))
    b = rows['fastrcnn_vit-b-p16_8xb8-16x4x1-20e_ava22']
    assert b['backbone_G'] == pytest.approx(253.67, abs=0.05)
    assert b['params_M'] == pytest.approx(86.29, abs=0.01)
    assert b['featmap'] == (1, 768, 8, 16, 16)
    assert 0 < b['head_G'] < 1e-3  # one box: temporal pool + classifier
    g = rows['fastrcnn_vit-g-p14_8xb8-16x4x1-20e_ava22']
    assert g['featmap'] == (1, 1408, 8, 19, 19)  # 256 is padded to 266 = 19 x 14


def test_demo_on_a_real_video(tmp_path):
    if not osp.isfile(VIDEO):
        pytest.skip(f'{VIDEO} not found (set VMAE2_TEST_DATA)')
    props = tmp_path / 'props.pkl'
    with open(props, 'wb') as f:  # two persons, keyed by second as the demo reads them
        pickle.dump({f'arm_wrestling_k400,{t:04d}': np.array(
            [[0.0, 0.0, 0.56, 1.0, 0.99], [0.52, 0.04, 1.0, 0.92, 0.98]]) for t in range(11)}, f)
    labels = tmp_path / 'action_list.pbtxt'  # the synthetic set's list, without generating it
    labels.write_text(''.join(f'label {{\n  name: "{n}"\n  label_id: {i}\n}}\n'
                              for i, n in SYNTHETIC_AVA_ACTIONS.items()))
    out = str(tmp_path / 'out.mp4')
    with pytest.raises(SystemExit, match='label list .* not found'):
        _tool('demo').main([VIDEO, SYNTHETIC, '--label-file', str(tmp_path / 'missing.pbtxt')])
    results = _tool('demo').main([VIDEO, SYNTHETIC, '--proposals', str(props), '--step', '70',
                                  '--label-file', str(labels),
                                  '--action-thr', '0', '--out-video', out])
    assert [r['frame'] for r in results] == [35, 105, 175, 245]
    report = json.load(open(str(tmp_path / 'out.json')))
    det = report['keyframes'][1]['detections']
    assert len(det) == 2 and det[0]['box'] == pytest.approx([0, 0, 0.56 * 340, 256], abs=0.5)
    assert [len(d['actions']) for d in det] == [3, 3]  # top 3 of the 8 synthetic actions
    assert {a['id'] for d in det for a in d['actions']} <= set(range(1, 9))  # never slot 0
    from vmae2.datasets import open_video
    video = open_video(out)
    assert video.num_frames == 280 and video.get_frames([100]).shape == (1, 256, 340, 3)


@pytest.mark.slow
@pytest.mark.long  # ~6 min: `pytest -m long`
def test_synthetic_training_reaches_the_target(tmp_path):
    """The README's synthetic run from scratch: frame mAP@0.5 >= 0.3 after 20 epochs."""
    work = tmp_path / 'work'
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'train.py'), SYNTHETIC,
                    '--work-dir', str(work)], cwd=tmp_path, check=True,
                   env=dict(os.environ, PYTHONPATH=REPO))
    scalars = [json.loads(line) for run in os.listdir(work) if osp.isdir(work / run)
               for line in open(work / run / 'vis_data' / 'scalars.json')]
    maps = [s['ava/frame_mAP@0.5'] for s in scalars if 'ava/frame_mAP@0.5' in s]
    assert len(maps) == 20  # one evaluation per epoch
    assert maps[-1] >= 0.3
