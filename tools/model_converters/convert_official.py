"""Convert an official VideoMAE V2 / HF transformers VideoMAE checkpoint to a vmae2 file.

    python tools/model_converters/convert_official.py SRC DST --to {pretrain,recognizer,backbone,hf}
        [--num-classes N]

No conversion is needed to *use* official checkpoints (``init_cfg=dict(type='Pretrained', ...)``
and :func:`vmae2.checkpoints.load_checkpoint` read them directly); this writes a file in
MMEngine's layout (``{'state_dict': ..., 'meta': ...}``) for ``load_from`` or for sharing:

* ``pretrain``: ``encoder.*``, ``decoder.*``, ``encoder_to_decoder.weight``, ``mask_token``
  (the :class:`VideoMAEV2` names);
* ``recognizer``: ``backbone.*`` and ``cls_head.fc_cls.*`` (``Recognizer3D`` + ``VideoMAEHead``);
  with ``--num-classes 400/600/700`` a K710 head is cut down through the official index lists;
* ``backbone``: bare :class:`VideoViT` keys;
* ``hf``: HF transformers names (a plain state dict).

What is left out is printed. Files are read with ``safe_load`` (weights only).
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from vmae2.checkpoints import canonical_state_dict, map_head, official_to_hf  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', help='official / HF / vmae2 checkpoint')
    p.add_argument('dst', help='output file')
    p.add_argument('--to', choices=['pretrain', 'recognizer', 'backbone', 'hf'], required=True)
    p.add_argument('--num-classes', type=int, default=None,
                   help='recognizer head size; 400/600/700 map a K710 head')
    return p.parse_args()


def convert(parts: dict, to: str, num_classes=None) -> tuple:
    """Canonical parts (see ``canonical_state_dict``) -> (state dict, list of left-out keys)."""
    backbone, pretrain, head = parts['backbone'], parts['pretrain'], parts['head']
    left_out = []
    if to == 'pretrain':
        out = {f'encoder.{k}': v for k, v in backbone.items()}
        out.update(pretrain)
        left_out += [f'head.{k}' for k in head]
    elif to == 'recognizer':
        out = {f'backbone.{k}': v for k, v in backbone.items()}
        if head and num_classes:
            head = map_head(head, num_classes, left_out)
        out.update({f'cls_head.fc_cls.{k}': v for k, v in head.items()})
        left_out += list(pretrain)
    elif to == 'backbone':
        out = dict(backbone)
        left_out += list(pretrain) + [f'head.{k}' for k in head]
    else:  # hf
        sd = {f'encoder.{k}' if pretrain else k: v for k, v in backbone.items()}
        sd.update(pretrain)
        sd.update({f'head.{k}': v for k, v in head.items()})
        out = official_to_hf(sd)
    return out, left_out


def main():
    args = parse_args()
    parts = canonical_state_dict(args.src)
    state_dict, left_out = convert(parts, args.to, args.num_classes)
    if args.to == 'hf':
        torch.save(state_dict, args.dst)
    else:
        torch.save({'state_dict': state_dict,
                    'meta': dict(source=osp.basename(args.src), converted_to=args.to)}, args.dst)
    print(f'Wrote {len(state_dict)} tensors to {args.dst} ({args.to} layout)')
    if left_out:
        print(f'Left out (no place in a {args.to}): {sorted(left_out)}')


if __name__ == '__main__':
    main()
