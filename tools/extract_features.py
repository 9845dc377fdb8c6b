"""Extract per-window clip features from videos with a vmae2 video ViT (for temporal action
localization, or any use of clip features).

    python tools/extract_features.py CONFIG CHECKPOINT --videos DIR|LIST --out DIR
        [--stride 4] [--clip-len 16] [--batch-size 8] [--num-workers 2] [--amp]
        [--official-preprocessing] [--input-size 224] [--device cuda] [--launcher pytorch]

Windows of ``clip_len`` consecutive frames (frame interval 1, as the official VideoMAE V2
extractor) start every ``stride`` frames of the video at its own fps: a video of N frames gives
``T = floor((N - clip_len) / stride) + 1`` windows (one window, padded by repeating its last
frame, when ``N < clip_len``). Each window gives the backbone's pooled feature: ``fc_norm`` of the
mean token for a fine-tuned (classification) checkpoint, or the mean of the encoder's normalised
tokens for a pretraining checkpoint (which has no ``fc_norm``); the manifest says which.

Output in ``--out``: ``<video>.npy`` ``(T, D)`` float32 per video, ``meta/<video>.json`` (its fps,
frames, windows, padding, decoder), ``manifest.json`` (all of them plus the settings; feature g
is centred on frame ``g * stride + clip_len / 2``), ``failed_videos.txt`` (unreadable videos and
why; they are skipped, not fatal). Every file is written to a temporary name in the same folder,
fsynced and renamed, so a killed run leaves no partial ``.npy``; a re-run skips finished videos
(with the same settings; other settings into the same folder are refused).

Preprocessing: by default short side -> ``input_size``, centre crop, ImageNet mean/std (the
config's data preprocessor's), i.e. what the backbone was fine-tuned with.
``--official-preprocessing``: frames squashed to ``input_size`` x ``input_size``, divided by 255,
no mean/std: how the released THUMOS14 / FineAction features were made.

Several processes (``torchrun`` / ``tools/dist_*.sh`` with ``--launcher pytorch``, Slurm with
``--launcher slurm``, or ``--shard I/N`` by hand) each take every N-th video of the sorted list.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from vmae2.checkpoints import canonical_state_dict, load_checkpoint, safe_load  # noqa: E402

# checkpoint handling and video reading: the one place this tool names them
from vmae2.datasets.video_readers import BadVideoError, open_video  # noqa: E402

_UMASK = os.umask(0)
os.umask(_UMASK)
VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v', '.mpg', '.mpeg', '.flv', '.wmv')
IMAGENET_MEAN, IMAGENET_STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', help='a vmae2 recognition config (VideoViT backbone)')
    p.add_argument('checkpoint', help='any checkpoint layout vmae2 loads')
    p.add_argument('--videos', required=True, help='a folder of videos or a list file (first '
                   'field of each line: a path, relative to --video-root)')
    p.add_argument('--video-root', help="root of a list's relative paths (default: its folder)")
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--stride', type=int, default=4, help='frames between windows (THUMOS14 4, '
                   'FineAction 16)')
    p.add_argument('--clip-len', type=int, help="frames per window (default: the config's "
                   'clip_len / num_frames, else 16)')
    p.add_argument('--input-size', type=int, help="frame side (default: the config's "
                   'input_size, else 224)')
    p.add_argument('--official-preprocessing', action='store_true',
                   help='squash to input_size^2, divide by 255, no mean/std (released features)')
    p.add_argument('--batch-size', type=int, default=8, help='windows per forward pass')
    p.add_argument('--num-workers', type=int, default=2, help='decoding processes')
    p.add_argument('--amp', action='store_true', help='bf16 autocast (CPU or GPU)')
    p.add_argument('--device', help='default: cuda (the local rank\'s) if available, else cpu')
    p.add_argument('--backends', nargs='+', default=['decord', 'pyav'], help='decoders, in order')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    p.add_argument('--shard', help='I/N: this process takes videos I, I+N, ... (by hand)')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return p.parse_args(argv)


# ---------------------------------------------------------------- videos, sharding
def list_videos(src: str, root=None) -> dict:
    """``{video_id: path}``, sorted; the id is the file name without its extension."""
    if osp.isdir(src):
        paths = [osp.join(d, n) for d, _, names in os.walk(src) for n in names
                 if n.lower().endswith(VIDEO_EXTS)]
    elif osp.isfile(src):
        root = osp.dirname(osp.abspath(src)) if root is None else root
        with open(src) as f:
            rows = [line.split()[0] for line in f if line.strip() and not line.startswith('#')]
        paths = [r if osp.isabs(r) else osp.join(root, r) for r in rows]
    else:
        sys.exit(f'--videos {src}: no such folder or list file')
    videos = {}
    for path in sorted(paths):
        vid = osp.splitext(osp.basename(path))[0]
        if vid in videos:
            sys.exit(f'two videos give the feature name {vid}: {videos[vid]} and {path}')
        videos[vid] = path
    return videos


def dist_info(args):
    """``(rank, world_size, local_rank)``; initialises a gloo group for the final barrier."""
    if args.shard:
        i, n = (int(x) for x in args.shard.split('/'))
        return i, n, 0
    if args.launcher == 'none':
        return 0, 1, 0
    if args.launcher == 'slurm':
        from vmae2.utils.dist import _slurm_env_to_torch_env
        _slurm_env_to_torch_env()
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group('gloo')  # only a barrier is needed; works beside GPUs too
    return dist.get_rank(), dist.get_world_size(), int(os.environ.get('LOCAL_RANK', 0))


# ---------------------------------------------------------------- model
def build_extractor(cfg: Config, checkpoint: str):
    """The config's backbone with the checkpoint; returns ``(backbone, pooling)``."""
    from vmae2.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    model_cfg = cfg.model
    bb_cfg = dict(model_cfg.get('backbone', model_cfg))
    if bb_cfg.get('type') not in ('VideoViT', 'vmae2.VideoViT'):
        sys.exit(f'{cfg.filename}: the backbone is {bb_cfg.get("type")}, not a VideoViT')
    bb_cfg.pop('init_cfg', None)
    ckpt = safe_load(checkpoint, map_location='cpu')
    keys = canonical_state_dict(ckpt)['backbone']
    if 'fc_norm.weight' in keys:
        pooling = 'fc_norm'
        bb_cfg.update(use_mean_pooling=True, out_type='pooled')
    elif 'norm.weight' in keys:  # a pretraining encoder: final norm, no fc_norm
        pooling = 'mean_of_normed_tokens'
        bb_cfg.update(use_mean_pooling=False, out_type='tokens')
    else:
        sys.exit(f'{checkpoint}: neither fc_norm nor norm weights: cannot pool features')
    backbone = MODELS.build(bb_cfg)
    report = load_checkpoint(backbone, ckpt)
    if report.missing_keys:
        sys.exit(f'{checkpoint} does not fill the backbone: missing {report.missing_keys[:8]}')
    return backbone.eval(), pooling


# ---------------------------------------------------------------- decoding (workers)
def _resize(frame: np.ndarray, size: int, squash: bool) -> np.ndarray:
    if squash:
        return cv2.resize(frame, (size, size), interpolation=cv2.INTER_LINEAR)
    h, w = frame.shape[:2]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    frame = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, left = (nh - size) // 2, (nw - size) // 2
    return frame[top:top + size, left:left + size]


def _frames(reader, count: int, block: int = 64):
    """The first ``count`` frames in order, each decoded once, in blocks."""
    if reader.backend == 'pyav':
        # PyAVReader.get_frames decodes from the start on each call: one forward pass instead
        import av
        n = 0
        try:
            with av.open(reader.path) as container:
                stream = container.streams.video[0]
                stream.thread_type = 'SLICE'
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format='rgb24')
                    n += 1
                    if n == count:
                        return
        except Exception as e:
            raise BadVideoError(f'{reader.path}: PyAV failed to decode ({e})') from e
        raise BadVideoError(f'{reader.path}: stream ends after {n} of {count} frames')
    for a in range(0, count, block):
        yield from reader.get_frames(range(a, min(a + block, count)))


class WindowChunks(torch.utils.data.IterableDataset):
    """Yields, per video, chunks of ``batch_size`` windows as the frames they span.

    Items: ``dict(index, meta)`` first, then ``dict(index, frames (F, S, S, 3) uint8,
    starts (b,) long, last)`` (window w spans ``frames[starts[w]:starts[w] + clip_len]``), or
    ``dict(index, restart=True)`` when a decoder failed mid-video and the next takes over, or
    ``dict(index, error=str)``.
    """

    def __init__(self, items, clip_len, stride, batch_size, size, squash, backends):
        self.items, self.clip_len, self.stride = items, clip_len, stride
        self.batch_size, self.size, self.squash, self.backends = batch_size, size, squash, backends

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        for index, (vid, path) in list(enumerate(self.items))[wid::nw]:
            skip = None
            while True:
                try:
                    yield from self._video(index, path, skip)
                    break
                except BadVideoError as e:
                    failed = getattr(e, 'backend', None)
                    rest = [b for b in self.backends if b != failed and b != skip]
                    if failed is None or not rest:
                        yield dict(index=index, error=str(e))
                        break
                    skip = failed  # decoding failed mid-video: start over with the next decoder
                    yield dict(index=index, restart=True)
                except Exception as e:  # e.g. a frame OpenCV cannot resize: bad data, not fatal
                    yield dict(index=index, error=f'{path}: {type(e).__name__}: {e}')
                    break

    def _video(self, index, path, skip):
        reader = open_video(path, self.backends, num_threads=1, skip=skip)
        try:
            n = reader.num_frames
            L, s = self.clip_len, self.stride
            num_windows = max((n - L) // s + 1, 1)
            yield dict(index=index, meta=dict(path=path, fps=reader.fps, frames=n,
                                              num_features=num_windows,
                                              padded_frames=max(L - n, 0),
                                              backend=reader.backend))
            buf, first = [], 0  # buf[i] is frame first + i
            source = _frames(reader, min(n, (num_windows - 1) * s + L))
            for w0 in range(0, num_windows, self.batch_size):
                w1 = min(w0 + self.batch_size, num_windows)
                end = (w1 - 1) * s + L
                for frame in source:
                    buf.append(_resize(frame, self.size, self.squash))
                    if first + len(buf) >= end:
                        break
                if n < L:  # shorter than a window: repeat the last frame
                    buf += [buf[-1]] * (L - n)
                if first + len(buf) < end:
                    raise BadVideoError(f'{path}: {first + len(buf)} frames decoded, '
                                        f'{end} needed')
                starts = torch.arange(w0, w1) * s - first
                yield dict(index=index, frames=torch.from_numpy(np.stack(buf[:end - first])),
                           starts=starts, last=w1 == num_windows)
                drop = w1 * s - first  # frames before the next chunk's first window
                buf, first = buf[drop:], first + drop
        except BadVideoError as e:
            e.backend = reader.backend
            raise


# ---------------------------------------------------------------- writing
def atomic_write(path: str, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, fsync, rename onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp',
                               dir=osp.dirname(path) or '.')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def write_json(path: str, obj) -> None:
    atomic_write(path, lambda f: f.write(json.dumps(obj, indent=1).encode()))


def check_settings(out: str, settings: dict) -> None:
    path = osp.join(out, 'extract_settings.json')
    if osp.isfile(path):
        with open(path) as f:
            found = json.load(f)
        diff = {k: (found.get(k), v) for k, v in settings.items() if found.get(k) != v}
        if diff:
            sys.exit(f'{out} holds features extracted with other settings (found, now): {diff}; '
                     'choose another --out')
    else:
        write_json(path, settings)


def write_manifest(out: str, settings: dict) -> int:
    videos = {}
    for meta in sorted(glob.glob(osp.join(out, 'meta', '*.json'))):
        vid = osp.splitext(osp.basename(meta))[0]
        if osp.isfile(osp.join(out, f'{vid}.npy')):
            with open(meta) as f:
                videos[vid] = json.load(f)
    write_json(osp.join(out, 'manifest.json'), dict(
        format='vmae2-clip-features', version=1, **settings,
        window=settings['clip_len'], offset_frames=settings['clip_len'] / 2, videos=videos))
    return len(videos)


# ---------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    rank, world, local_rank = dist_info(args)
    cfg = Config.fromfile(args.config)
    clip_len = args.clip_len or cfg.get('clip_len') or cfg.get('num_frames') or 16
    size = args.input_size or cfg.get('input_size') or 224
    pre = cfg.model.get('data_preprocessor') or {}
    mean, std = (0., 0., 0.), (255., 255., 255.)
    if not args.official_preprocessing:
        mean, std = tuple(pre.get('mean', IMAGENET_MEAN)), tuple(pre.get('std', IMAGENET_STD))
    device = torch.device(args.device or (f'cuda:{local_rank}' if torch.cuda.is_available()
                                          else 'cpu'))
    backbone, pooling = build_extractor(cfg, args.checkpoint)
    backbone.to(device)
    settings = dict(config=osp.basename(args.config), checkpoint=osp.abspath(args.checkpoint),
                    clip_len=clip_len, stride=args.stride, frame_interval=1, input_size=size,
                    preprocessing='official' if args.official_preprocessing else 'mean_std',
                    mean=list(mean), std=list(std), pooling=pooling,
                    feature_dim=backbone.embed_dims, amp=args.amp, dtype='float32')
    os.makedirs(osp.join(args.out, 'meta'), exist_ok=True)
    if rank == 0:
        check_settings(args.out, settings)
    videos = list(list_videos(args.videos, args.video_root).items())[rank::world]
    todo = []
    for vid, path in videos:
        for stale in glob.glob(osp.join(args.out, f'.{vid}.npy.*.tmp')):  # a killed run's
            os.remove(stale)
        if not (osp.isfile(osp.join(args.out, f'{vid}.npy'))
                and osp.isfile(osp.join(args.out, 'meta', f'{vid}.json'))):
            todo.append((vid, path))
    if rank == 0:
        print(f'{len(videos) - len(todo)} of {len(videos)} videos already done; extracting '
              f'{len(todo)} ({world} process(es)); {pooling} features of dim '
              f'{backbone.embed_dims}, window {clip_len}, stride {args.stride}, {size}px, '
              f'{settings["preprocessing"]}, {"bf16" if args.amp else "fp32"} on {device}',
              flush=True)
    failures, windows, start = [], 0, time.time()
    if todo:
        windows = run(args, todo, backbone, device, clip_len, size, mean, std, failures,
                      show=rank == 0)
    elapsed = time.time() - start
    fail_file = osp.join(args.out, 'failed_videos.txt' if world == 1 else
                         f'failed_videos.rank{rank}.txt')
    if failures:
        atomic_write(fail_file, lambda f: f.write(''.join(
            f'{path}\t{why}\n' for path, why in failures).encode()))
    elif osp.exists(fail_file):
        os.remove(fail_file)
    print(f'\n[rank {rank}] {len(todo) - len(failures)} videos, {windows} windows in '
          f'{elapsed:.1f} s ({windows / max(elapsed, 1e-9):.1f} windows/s)', flush=True)
    if args.launcher != 'none' and world > 1:
        import torch.distributed as dist
        dist.barrier()
    if rank == 0 or args.shard:  # by hand, each shard writes what is there when it ends
        if world > 1 and not args.shard:
            merged = []
            for part in sorted(glob.glob(osp.join(args.out, 'failed_videos.rank*.txt'))):
                with open(part) as f:
                    merged.append(f.read())
                os.remove(part)
            if any(merged):
                atomic_write(osp.join(args.out, 'failed_videos.txt'),
                             lambda f: f.write(''.join(merged).encode()))
        done = write_manifest(args.out, settings)
        print(f'manifest: {done} videos in {osp.join(args.out, "manifest.json")}')
    if failures:
        print(f'{len(failures)} unreadable video(s), skipped (listed in {fail_file}):')
        for path, why in failures:
            print(f'  {path}: {why}')


def _init_worker(_):
    # the workers decode; the main process owns the cores for the model
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


@torch.no_grad()
def run(args, todo, backbone, device, clip_len, size, mean, std, failures, show=True) -> int:
    """Extract ``todo``; returns the number of windows computed."""
    data = WindowChunks(todo, clip_len, args.stride, args.batch_size, size,
                        args.official_preprocessing, tuple(args.backends))
    loader = torch.utils.data.DataLoader(
        data, batch_size=None, num_workers=args.num_workers,
        prefetch_factor=4 if args.num_workers else None,
        worker_init_fn=_init_worker)
    mean_t = torch.tensor(mean, device=device).view(1, 3, 1, 1, 1)
    std_t = torch.tensor(std, device=device).view(1, 3, 1, 1, 1)
    offsets = torch.arange(clip_len)
    bar = ProgressBar(len(todo)) if show else None
    partial, metas, windows = {}, {}, 0
    for item in loader:
        i = item['index']
        vid = todo[i][0]
        if 'error' in item or 'restart' in item:
            partial.pop(i, None)
            if 'error' in item:
                failures.append((todo[i][1], item['error']))
                if bar:
                    bar.update()
            continue
        if 'meta' in item:
            metas[i], partial[i] = item['meta'], []
            continue
        frames = item['frames'].to(device, non_blocking=True)
        clips = frames[item['starts'][:, None] + offsets]  # (b, L, S, S, 3)
        clips = (clips.permute(0, 4, 1, 2, 3).float() - mean_t) / std_t  # (b, 3, L, S, S)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp):
            out = backbone(clips)
        if out.dim() == 3:  # pretraining encoder tokens (b, N, D): mean of the normed tokens
            out = out.mean(1)
        partial[i].append(out.float().cpu().numpy())
        windows += len(clips)
        if item['last']:
            feats = np.concatenate(partial.pop(i)).astype(np.float32)
            meta = metas.pop(i)
            assert len(feats) == meta['num_features'], (vid, len(feats), meta)
            write_json(osp.join(args.out, 'meta', f'{vid}.json'), meta)
            atomic_write(osp.join(args.out, f'{vid}.npy'), lambda f: np.save(f, feats))
            if bar:
                bar.update()
    return windows


if __name__ == '__main__':
    main()
