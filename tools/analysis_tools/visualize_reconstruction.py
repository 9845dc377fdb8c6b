"""Reconstruct a video with a pretrained VideoMAE (V2) checkpoint and save the picture.

    python tools/analysis_tools/visualize_reconstruction.py CONFIG CHECKPOINT VIDEO \
        [--out recon.png] [--start 0] [--frame-interval 4] [--seed 0] [--num-clips 1]

The clip: ``num_frames`` frames (from the model's input size, or ``--num-frames``) taken every
``--frame-interval`` frames from ``--start``, short side resized to the input size and
centre-cropped. The masks are drawn by the model's own generators, seeded by ``--seed``.
"""
import argparse
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction

from vmae2.checkpoints import load_checkpoint
from vmae2.registry import MODELS
from vmae2.setup_env import register_all_modules
from vmae2.visualization import render_reconstructions, save_rgb


def parse_args():
    p = argparse.ArgumentParser(description='Visualise VideoMAE reconstructions of a video')
    p.add_argument('config')
    p.add_argument('checkpoint', help='checkpoint file, or "none" for random weights')
    p.add_argument('video')
    p.add_argument('--out', default='reconstruction.png')
    p.add_argument('--num-frames', type=int, default=None,
                   help='frames per clip (default: the config\'s num_frames, else 16)')
    p.add_argument('--size', type=int, default=None,
                   help='crop size (default: the config\'s input size, else 224)')
    p.add_argument('--frame-interval', type=int, default=None,
                   help='frame step (default: the config\'s frame_interval, else 4)')
    p.add_argument('--start', type=int, default=0, help='first frame')
    p.add_argument('--num-clips', type=int, default=1,
                   help='clips taken one after another from --start')
    p.add_argument('--seed', type=int, default=0, help='seed of the masks')
    p.add_argument('--scale', type=int, default=1, help='integer upscaling of the frames')
    p.add_argument('--queries-only', action='store_true',
                   help='show only the decoder queries of dual masking (others greyed out) '
                   'instead of decoding every patch the encoder did not see')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def read_frames(path: str, indices: np.ndarray) -> np.ndarray:
    """RGB frames ``(T, H, W, 3)`` uint8 at ``indices`` (decord, PyAV as fallback)."""
    try:
        import decord
        vr = decord.VideoReader(path, num_threads=1)
        n = len(vr)
        return vr.get_batch(np.minimum(indices, n - 1).tolist()).asnumpy()
    except Exception:  # decord missing or unable: PyAV decodes everything and picks
        import av
        with av.open(path) as container:
            frames = [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]
        if not frames:
            raise RuntimeError(f'{path}: no frames could be decoded')
        return np.stack([frames[min(i, len(frames) - 1)] for i in indices])


def video_length(path: str) -> int:
    try:
        import decord
        return len(decord.VideoReader(path, num_threads=1))
    except Exception:
        import av
        with av.open(path) as container:
            return sum(1 for _ in container.decode(video=0))


def to_clip(frames: np.ndarray, size: int) -> torch.Tensor:
    """``(T, H, W, 3)`` uint8 -> ``(3, T, size, size)`` uint8: short side resize, centre crop."""
    x = torch.from_numpy(frames).permute(3, 0, 1, 2).float()  # (3, T, H, W)
    H, W = x.shape[-2:]
    s = size / min(H, W)
    h, w = max(size, round(H * s)), max(size, round(W * s))
    x = F.interpolate(x.transpose(0, 1), size=(h, w), mode='bilinear', align_corners=False)
    top, left = (h - size) // 2, (w - size) // 2
    x = x[..., top:top + size, left:left + size].transpose(0, 1)
    return x.round().clamp(0, 255).to(torch.uint8)


def main():
    args = parse_args()
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    num_frames = args.num_frames or cfg.get('num_frames', 16)
    size = args.size or cfg.get('input_size', 224)
    if isinstance(size, (tuple, list)):
        size = size[-1]
    interval = args.frame_interval or cfg.get('frame_interval', 4)

    model = MODELS.build(cfg.model)
    if args.checkpoint.lower() != 'none':
        # any layout (vmae2, official, HF); refuses a pos_embed_type other than the config's
        report = load_checkpoint(model, args.checkpoint)
        if report.missing_keys:  # e.g. a fine-tuned checkpoint: no decoder to reconstruct with
            raise SystemExit(f'{args.checkpoint} leaves {len(report.missing_keys)} weights of the '
                             f'model unloaded (first: {report.missing_keys[:3]}); a pretraining '
                             f'checkpoint (encoder + decoder) is needed')
    model.eval()

    n = video_length(args.video)
    clips = []
    for c in range(args.num_clips):
        start = args.start + c * num_frames * interval
        idx = start + np.arange(num_frames) * interval
        if start >= n:
            break
        clips.append(to_clip(read_frames(args.video, idx), size))
    if not clips:
        raise SystemExit(f'{args.video}: has {n} frames, --start {args.start} is past the end')
    data = model.data_preprocessor(dict(inputs=clips, data_samples=None), False)
    gen = torch.Generator().manual_seed(args.seed)
    enc, dec = model.get_masks(data['inputs'], None, generator=gen)
    if not args.queries_only:
        dec = None  # the decoder can take any query set: decode every hidden patch
    image = render_reconstructions(model, data['inputs'], enc, dec, max_clips=len(clips),
                                   max_frames=num_frames, scale=args.scale,
                                   title_prefix=f'{osp.basename(args.video)} ')
    save_rgb(args.out, image)
    print(f'saved {args.out} ({image.shape[1]}x{image.shape[0]}) for {len(clips)} clip(s) of '
          f'{num_frames} frames every {interval} from frame {args.start} of {n}')


if __name__ == '__main__':
    main()
