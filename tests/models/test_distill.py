"""KDRecognizer: the KL to a frozen teacher falls on synthetic data; the teacher never
changes, gets no gradient and stays out of the checkpoint."""
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import vmae2  # noqa: F401
from vmae2.models.distillers import KDRecognizer, kd_loss
from vmae2.registry import MODELS

ARCH = dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32, patch_size=8)


def _recognizer(num_classes=4, init_scale=1.0):
    return dict(type='Recognizer3D',
                backbone=dict(type='VideoViT', arch=ARCH, use_mean_pooling=True),
                cls_head=dict(type='VideoMAEHead', num_classes=num_classes, in_channels=16,
                              init_scale=init_scale, average_clips='prob'))


def _batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 255, (1, 3, 4, 16, 16), generator=g, dtype=torch.uint8)
              for _ in range(n)]
    samples = [ActionDataSample().set_gt_label(i % 4) for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def test_kd_loss_numbers():
    s, t = torch.tensor([[0., 1., 2.]]), torch.tensor([[2., 1., 0.]])
    p_t, p_s = torch.softmax(t / 2, -1), torch.softmax(s / 2, -1)
    expected = 4 * (p_t * (p_t.log() - p_s.log())).sum()
    assert kd_loss(s, t, temperature=2.0) == pytest.approx(float(expected), rel=1e-6)
    assert kd_loss(t, t) == pytest.approx(0.0, abs=1e-7)


def test_distillation_lowers_kl_and_leaves_teacher_alone():
    init_default_scope('vmae2')
    torch.manual_seed(0)
    # a confident teacher (large head init), so that there is something to match
    model = KDRecognizer(
        student=_recognizer(), teacher=_recognizer(init_scale=50.), temperature=2.0,
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert all(not p.requires_grad for p in model.teacher.parameters())
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.),
        constructor='LayerDecayOptimWrapperConstructor', paramwise_cfg=dict(layer_decay_rate=.9)))
    batch = _batch()
    model.train()
    assert not model.teacher.training  # frozen in eval mode even while the student trains

    def kl():
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            return float(model.loss(**data)['loss_kd'])

    start = kl()
    for _ in range(20):
        log = model.train_step(batch, optim)
        assert set(log) == {'loss', 'loss_kd'}  # hard_weight=0: pure distillation
    end = kl()
    assert end < 0.5 * start, (start, end)
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    assert all(p.grad is None for p in model.teacher.parameters())
    # prediction is the student's
    model.eval()
    with torch.no_grad():
        out = model.test_step(_batch(2, seed=1))
    assert out[0].pred_score.shape == (4, )


def test_teacher_from_config_file_and_checkpoint(tmp_path):
    init_default_scope('vmae2')
    torch.manual_seed(1)
    teacher = MODELS.build(_recognizer())
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict()}, ckpt)
    cfg = tmp_path / 'teacher.py'
    cfg.write_text(f'model = {_recognizer()!r}\n')
    model = KDRecognizer(student=_recognizer(), teacher=str(cfg), teacher_ckpt=str(ckpt),
                         hard_weight=0.5)
    for k, v in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[k], v), k
    data = model.data_preprocessor(_batch(4), True)
    losses = model.loss(**data)
    hard = model.student.cls_head.loss_by_feat(
        model.student.cls_head(model.student.extract_feat(data['inputs'])[0]),
        data['data_samples'])['loss_cls']
    assert float(losses['loss_cls']) == pytest.approx(0.5 * float(hard), rel=1e-4)
