"""vmae2's registries reach mmaction2's, mmdet's and mmengine's components."""
import pytest
import torch
from mmengine.registry import DefaultScope

import vmae2.registry as R
from vmae2.setup_env import register_all_modules


@pytest.fixture(autouse=True)
def _scope():
    register_all_modules(init_default_scope=True)
    with DefaultScope.overwrite_default_scope('vmae2'):
        yield


def test_registries_are_children_of_mmaction():
    import mmaction.registry as A
    for name in ['MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'VISUALIZERS',
                 'OPTIM_WRAPPER_CONSTRUCTORS', 'OPTIM_WRAPPERS', 'LOOPS']:
        ours, theirs = getattr(R, name), getattr(A, name)
        assert ours.scope == 'vmae2'
        assert ours.parent is theirs, name
        # the parent's lazy-import locations are ours too (MMEngine never imports a parent's)
        assert set(theirs._locations) <= set(ours._locations), name
    # collate functions: a direct child of MMEngine's root, reachable as 'vmae2.name' and bare
    from mmengine.registry import FUNCTIONS
    assert R.FUNCTION.parent is FUNCTIONS
    assert FUNCTIONS.get('vmae2.flatten_views_collate') is FUNCTIONS.get('flatten_views_collate')
    assert FUNCTIONS.get('flatten_views_collate') is not None
    assert R.MASK_GENERATORS.scope == 'vmae2' and R.MASK_GENERATORS.parent is None


def test_mmaction_and_mmengine_components_without_prefix():
    assert R.MODELS.get('Recognizer3D').__module__.startswith('mmaction')
    assert R.TRANSFORMS.get('DecordDecode').__module__.startswith('mmaction')
    assert R.METRICS.get('AccMetric').__module__.startswith('mmaction')
    assert R.HOOKS.get('CheckpointHook').__module__.startswith('mmengine')
    assert R.HOOKS.get('SafeCheckpointHook').__module__.startswith('vmae2')
    assert R.OPTIM_WRAPPERS.get('AutocastOptimWrapper').__module__.startswith('vmae2')


def test_mmdet_component_with_prefix():
    import mmdet.registry  # noqa: F401  (the registry node must exist)
    cls = R.MODELS.get('mmdet.FastRCNN')
    assert cls.__name__ == 'FastRCNN' and cls.__module__.startswith('mmdet')


def test_ava_roi_head_from_config_runs_roi_align():
    """mmaction2's AVA head (FastRCNN style) built through our registry; RoIAlign from mmcv.ops."""
    # mmaction2 registers its AVA heads into mmdet's registry (they plug into mmdet's
    # detectors), and its AVA configs build them in the mmdet scope: so do we.
    head = R.MODELS.build(dict(
        type='mmdet.AVARoIHead',
        _scope_='mmdet',
        bbox_roi_extractor=dict(type='SingleRoIExtractor3D', roi_layer_type='RoIAlign',
                                output_size=4, featmap_stride=1, with_temporal_pool=True),
        bbox_head=dict(type='BBoxHeadAVA', in_channels=8, num_classes=5, multilabel=True,
                       background_class=True, dropout_ratio=0.0, topk=(1, 3))))
    assert type(head).__module__.startswith('mmaction')
    extractor = head.bbox_roi_extractor
    # A feature map whose value is its x coordinate: RoI-aligned features over a box are the
    # box's sampled x positions, independent of y and of the channel.
    T, H, W = 2, 16, 16
    xs = torch.arange(W, dtype=torch.float32).view(1, 1, 1, 1, W)
    feat = xs.expand(1, 8, T, H, W).contiguous()
    rois = torch.tensor([[0., 0., 0., 16., 16.]])  # (batch index, x1, y1, x2, y2) at stride 1
    pooled, _ = extractor((feat, ), rois)
    assert pooled.shape == (1, 8, 1, 4, 4)
    # 4 bins of width 4 over [0, 16] sample x centres 2, 6, 10, 14 -> value = centre - 0.5
    expected = torch.tensor([1.5, 5.5, 9.5, 13.5])
    assert torch.allclose(pooled[0, 0, 0, 0], expected, atol=1e-4)
    assert torch.allclose(pooled[0, 3, 0, 2], expected, atol=1e-4)
    cls_score = head.bbox_head(pooled)
    cls_score = cls_score[0] if isinstance(cls_score, tuple) else cls_score
    assert cls_score.numel() == 5 and torch.isfinite(cls_score).all()
    # BBoxHeadAVA: temporal average, spatial max, then fc_cls; check against by hand
    fc = head.bbox_head.fc_cls
    by_hand = fc(pooled.mean(dim=2).amax(dim=(2, 3)))
    assert torch.allclose(cls_score.reshape(-1), by_hand.reshape(-1), atol=1e-5)
