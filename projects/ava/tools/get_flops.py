"""Parameters and GFLOPs (multiply-adds, as the VideoMAE V2 paper counts) of AVA detectors.

    python projects/ava/tools/get_flops.py CONFIG [CONFIG ...] [--shape T H W] [--boxes N]

The core tool (``tools/analysis_tools/get_flops.py``) cannot count a detector: it calls
``model(x)`` without data samples, and ``FastRCNN`` needs proposals to run. This one reuses the
core counter (``count_flops``) on the backbone, built on the ``meta`` device (no memory, no
compute, so ViT-g counts in seconds), and counts the RoI head (RoIAlign is an mmcv op, not
counted; the temporal pooling and the classifier are) on the CPU for ``--boxes`` person boxes.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', '..'))


def count_detector(cfg: Config, shape=(16, 256, 256), boxes: int = 1) -> dict:
    """``{'params_M', 'backbone_G', 'head_G', 'total_G', 'featmap'}`` of ``cfg.model``."""
    import projects.ava.ava_vmae2  # noqa: F401  (registers the detector)
    from projects.ava.ava_vmae2._core import count_flops, count_params
    from vmae2.registry import MODELS
    init_default_scope('vmae2')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    T, H, W = shape
    backbone = count_flops(model.backbone, (T, H, W), device='meta')
    with torch.no_grad():
        featmap = tuple(model.backbone(torch.zeros(1, 3, T, H, W, device='meta')).shape)
    # the RoI head alone, moved off the meta device (weights left uninitialised: a FLOP count
    # reads no value); rebuilding the whole model on the CPU would initialise ViT-g's 1 B
    # weights for nothing (minutes)
    cpu_head = model.roi_head.to_empty(device='cpu').eval()
    feat = torch.zeros(featmap)
    rois = torch.tensor([[0., 0., 0., W - 1., H - 1.]] * boxes)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        cpu_head._bbox_forward(feat, rois, [dict(img_shape=(H, W))])
    head = counter.get_total_flops() / 2e9
    return dict(params_M=count_params(model) / 1e6, backbone_G=backbone, head_G=head,
                total_G=backbone + head, featmap=featmap)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Parameters and GFLOPs of AVA detectors')
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--shape', type=int, nargs=3, default=[16, 256, 256],
                        metavar=('T', 'H', 'W'))
    parser.add_argument('--boxes', type=int, default=1, help='person boxes per clip')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    args = parser.parse_args(argv)
    import vmae2  # noqa: F401  (before reading configs: `vmae2::` bases)
    rows = []
    for path in args.configs:
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(args.cfg_options)
        r = count_detector(cfg, args.shape, args.boxes)
        rows.append((osp.splitext(osp.basename(path))[0], r))
        print(f'{rows[-1][0]}: params {r["params_M"]:.1f} M, GFLOPs per '
              f'{"x".join(map(str, args.shape))} clip: backbone {r["backbone_G"]:.2f} '
              f'(feature map {r["featmap"]}), RoI head {r["head_G"]:.4f} for {args.boxes} '
              f'box(es), total {r["total_G"]:.2f}')
    return rows


if __name__ == '__main__':
    main()
