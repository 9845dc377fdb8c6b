"""demo/demo_video.py and vmae2.apis on a real clip: five labels of the label map, scores of
the model's multi-view prediction."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.registry import init_default_scope

import vmae2  # noqa: F401
from tests.helpers.recipes import FINETUNE_CONFIGS, REPO, TINY_ARCH
from vmae2.apis import inference_recognizer, init_recognizer, top_k
from vmae2.label_maps import LABEL_MAP_DIR, load_class_names

TINY_CONFIG = """_base_ = [{base!r}]
model = dict(backbone=dict(arch=dict(_delete_=True, **{arch!r})), cls_head=dict(in_channels={dims}))
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=8, num_clips=2, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
"""


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    """A tiny K400 recognizer config and a checkpoint of it with a random (seeded) head."""
    tmp = tmp_path_factory.mktemp('demo')
    base = next(p for p in FINETUNE_CONFIGS if 'vit-b' in p and p.endswith('_k400.py'))
    cfg = tmp / 'tiny_k400.py'
    cfg.write_text(TINY_CONFIG.format(base=base, arch=TINY_ARCH, dims=TINY_ARCH['embed_dims']))
    torch.manual_seed(0)
    model = init_recognizer(str(cfg))
    with torch.no_grad():
        model.cls_head.fc_cls.weight.normal_(0, 1.0)  # spread the scores so top-5 is stable
    ckpt = tmp / 'tiny.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return str(cfg), str(ckpt), model


def test_init_and_inference_recognizer(tiny_model, test_data_root):
    cfg, ckpt, reference = tiny_model
    model = init_recognizer(cfg, ckpt)
    for k, v in reference.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    video = osp.join(test_data_root, 'videos', 'arm_wrestling_k400.mp4')
    result = inference_recognizer(model, video)
    assert result.pred_score.shape == (400, )
    assert float(result.pred_score.sum()) == pytest.approx(1.0, abs=1e-5)
    # mmaction2's own init_recognizer builds vmae2 configs too (same scope switch)
    from mmaction.apis import init_recognizer as mm_init
    mm_model = mm_init(cfg, ckpt, device='cpu')
    init_default_scope('vmae2')
    same = inference_recognizer(mm_model, video)
    assert torch.allclose(same.pred_score, result.pred_score, atol=1e-6)


@pytest.mark.slow
def test_demo_prints_top5(tiny_model, test_data_root):
    cfg, ckpt, model = tiny_model
    video = osp.join(test_data_root, 'videos', 'arm_wrestling_k400.mp4')
    label_map = osp.join(LABEL_MAP_DIR, 'label_map_k400.txt')
    res = subprocess.run(
        [sys.executable, osp.join(REPO, 'demo', 'demo_video.py'), video, cfg, ckpt,
         '--label-map', label_map], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.strip().splitlines()[-5:]
    labels = load_class_names('k400')
    printed = [line.rsplit(': ', 1) for line in lines]
    assert all(name in labels for name, _ in printed)
    scores = [float(s) for _, s in printed]
    assert scores == sorted(scores, reverse=True)
    expected = top_k(inference_recognizer(model, video).pred_score, labels)
    assert [n for n, _ in printed] == [n for n, _ in expected]
    assert scores == pytest.approx([s for _, s in expected], abs=1e-4)
