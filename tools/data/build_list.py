"""Scan a folder of videos (or of frame folders) into a list file in the official layout.

    python tools/data/build_list.py ROOT OUT [--frames] [--filename-tmpl img_{:05}.jpg]

Videos give ``relpath 0 -1`` (a negative count marks a video in the official layout; the real
count is read at load time), after being opened (decord, then PyAV) to check that they hold
frames. Frame folders (``--frames``: every folder that directly holds images) give
``relpath start_idx total_frames``, after checking that the numbering has no gap. Unreadable
videos, empty or gapped folders are skipped and listed at the end.
"""
import argparse
import os
import os.path as osp
import re
import sys

from mmengine.utils import ProgressBar

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))  # run from a checkout
from vmae2.datasets.list_file import format_official_line  # noqa: E402
from vmae2.datasets.video_readers import BadVideoError, open_video  # noqa: E402

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v', '.flv', '.mpg', '.mpeg')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='folder to scan (recursively)')
    parser.add_argument('out', help='list file to write')
    parser.add_argument('--frames', action='store_true', help='scan frame folders, not videos')
    parser.add_argument('--filename-tmpl', default='img_{:05}.jpg',
                        help='file template of frames (with --frames)')
    parser.add_argument('--min-frames', type=int, default=1,
                        help='skip videos / folders with fewer frames')
    parser.add_argument('--absolute', action='store_true', help='write absolute paths')
    return parser.parse_args()


def scan_videos(root):
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if name.lower().endswith(VIDEO_EXTS):
                yield osp.join(dirpath, name)


def scan_frame_dirs(root):
    for dirpath, _, files in os.walk(root):
        if any(name.lower().endswith(IMAGE_EXTS) for name in files):
            yield dirpath


def count_video(path):
    """(start_idx, total_frames written, frame count) of a readable video."""
    reader = open_video(path)
    return 0, -1, reader.num_frames


def count_frames(frame_dir, tmpl):
    """(start_idx, total_frames, count) of a frame folder numbered without gaps by ``tmpl``."""
    numbers = []
    pattern = re.compile('^' + re.escape(tmpl).replace(r'\{:05\}', r'(\d+)').replace(
        r'\{\}', r'(\d+)') + '$')
    for name in os.listdir(frame_dir):
        m = pattern.match(name)
        if m:
            numbers.append(int(m.group(1)))
    if not numbers:
        raise BadVideoError(f'{frame_dir}: no file matches {tmpl}')
    start, count = min(numbers), len(numbers)
    if max(numbers) - start + 1 != count:
        raise BadVideoError(f'{frame_dir}: frames {start}..{max(numbers)} have gaps '
                            f'({count} files)')
    return start, count, count


def main():
    args = parse_args()
    paths = sorted(scan_frame_dirs(args.root) if args.frames else scan_videos(args.root))
    if not paths:
        sys.exit(f'nothing to list under {args.root}')
    lines, bad, frames = [], [], []
    progress = ProgressBar(len(paths), file=sys.stderr)
    for path in paths:
        try:
            if args.frames:
                start, total, count = count_frames(path, args.filename_tmpl)
            else:
                start, total, count = count_video(path)
            if count < args.min_frames:
                raise BadVideoError(f'{path}: {count} frames < --min-frames {args.min_frames}')
            name = osp.abspath(path) if args.absolute else osp.relpath(path, args.root)
            lines.append(format_official_line(name, start, total))
            frames.append(count)
        except (BadVideoError, ValueError) as e:
            bad.append(str(e))
        progress.update()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines) + ('\n' if lines else ''))
    print(f'\nwrote {len(lines)} entries to {args.out}; frames per entry: '
          f'min {min(frames, default=0)}, max {max(frames, default=0)}, '
          f'total {sum(frames)}')
    if bad:
        print(f'skipped {len(bad)} unreadable:')
        for reason in bad:
            print(f'  {reason}')


if __name__ == '__main__':
    main()
