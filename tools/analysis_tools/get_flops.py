"""Parameters and GFLOPs (multiply-adds, as the VideoMAE V2 paper counts) of configs' models.

    python tools/analysis_tools/get_flops.py CONFIG [CONFIG ...] [--shape T H W]

Pretraining configs are counted with their masks (every tubelet embedded, the encoder on the
visible tokens, the decoder on visible + query tokens), both with the configured masking and,
with ``--both``, encoder-only and dual; classifier configs per view. Models are built on the
``meta`` device (no memory, no compute) unless ``--device cpu``. Only ``cfg.model`` is built, but
loading a config needs every file it inherits.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))


def parse_args():
    parser = argparse.ArgumentParser(description='Count parameters and GFLOPs of a model')
    parser.add_argument('configs', nargs='+', help='config file(s)')
    parser.add_argument('--shape', type=int, nargs=3, default=[16, 224, 224],
                        metavar=('T', 'H', 'W'), help='clip size (frames, height, width)')
    parser.add_argument('--both', action='store_true',
                        help='for pretraining models, count encoder-only and dual masking')
    parser.add_argument('--device', default='meta', choices=['meta', 'cpu'])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args()


def main():
    args = parse_args()
    import vmae2.models  # noqa: F401  (registers the models)
    from vmae2.analysis import count_flops, count_params
    from vmae2.models import VideoMAEV2
    from vmae2.registry import MODELS
    init_default_scope('vmae2')

    rows = []
    for path in args.configs:
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(args.cfg_options)
        # batch blending (Mixup/CutMix) is training-only, and its distributions cannot be
        # built on the meta device
        cfg.model.get('data_preprocessor', {}).pop('blending', None)
        with torch.device(args.device):
            model = MODELS.build(cfg.model)
        params = count_params(model) / 1e6
        name = osp.splitext(osp.basename(path))[0]
        if isinstance(model, VideoMAEV2):
            configured = 'dual' if model.decoder_mask_cfg is not None else 'encoder-only'
            modes = [('encoder-only', False), ('dual', True)] if args.both else [(configured, None)]
            for label, dual in modes:
                rows.append((name, f'pretrain, {label} masking', params,
                             count_flops(model, args.shape, args.device, dual=dual)))
        else:
            rows.append((name, 'per view', params, count_flops(model, args.shape, args.device)))

    shape = 'x'.join(map(str, args.shape))
    header = ('config', 'counted', 'params (M)', f'GFLOPs ({shape})')
    widths = [max(len(header[0]), *(len(r[0]) for r in rows)),
              max(len(header[1]), *(len(r[1]) for r in rows)), 10, len(header[3])]
    line = ' | '.join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print('-|-'.join('-' * w for w in widths))
    for name, counted, params, gflops in rows:
        print(' | '.join([name.ljust(widths[0]), counted.ljust(widths[1]),
                          f'{params:.1f}'.rjust(widths[2]), f'{gflops:.2f}'.rjust(widths[3])]))


if __name__ == '__main__':
    main()
