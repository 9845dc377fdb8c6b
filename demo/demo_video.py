"""Classify a video and print its top-5 classes.

    python demo/demo_video.py VIDEO CONFIG CHECKPOINT --label-map FILE [--device cpu]

e.g. ``python demo/demo_video.py ../shared/data/videos/arm_wrestling_k400.mp4
configs/finetune/videomaev2_vit-b-p16_ft-16x4_8xb8-90e_k400.py vit_b_k400.pth
--label-map vmae2/label_maps/label_map_k400.txt``. The config's ``test_pipeline`` decides the
views (5 clips x 3 crops for the Kinetics configs; pass ``--cfg-options`` to change it); the
checkpoint may be a vmae2, official VideoMAE V2 or HF one (read weights-only).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from vmae2.apis import inference_recognizer, init_recognizer, top_k  # noqa: E402
from vmae2.checkpoints import TRUST_ENV  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='vmae2 video classification demo')
    parser.add_argument('video', help='video file')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--label-map', required=True, help='class names, one a line')
    parser.add_argument('--device', default='cpu', help='e.g. cpu or cuda:0')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow fully unpickling the checkpoint (only a file you trust)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
    with open(args.label_map, encoding='utf-8') as f:
        labels = [line.strip() for line in f if line.strip()]
    model = init_recognizer(args.config, args.checkpoint, args.device, args.cfg_options)
    result = inference_recognizer(model, args.video)
    print(f'Top-{args.topk} classes of {args.video}:')
    for label, score in top_k(result.pred_score, labels, args.topk):
        print(f'{label}: {score:.4f}')


if __name__ == '__main__':
    main()
