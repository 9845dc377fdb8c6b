"""The K400 fine-tuning recipe, shrunk with --cfg-options only, over a list holding the fuzz
corpus (13 broken files among 53 videos): tools/train.py trains to the end (bad files replaced
and counted) and tools/test.py tests to the end, reporting num_unreadable and listing the
broken files."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from tests.datasets.fuzz_corpus import KINDS, NUM_BAD, make_corpus
from tests.helpers import REPO
from tests.helpers.recipes import write_video

K400 = 'configs/finetune/videomaev2_vit-b-p16_ft-16x4_8xb8-90e_k400.py'
# the tiny arch, key by key (the recipe's arch is the string 'b': `_delete_` replaces it)
TINY = ['model.backbone.arch._delete_=True', 'model.backbone.arch.embed_dims=24',
        'model.backbone.arch.num_layers=2', 'model.backbone.arch.num_heads=2',
        'model.backbone.arch.feedforward_channels=48', 'model.backbone.arch.patch_size=8']


def shrink_options(root: str, ann: str, work_dir: str) -> list:
    """--cfg-options for a 2-epoch tiny run: 4 frames x interval 2, 16-pixel crops."""
    opts = [*TINY, 'model.backbone.drop_path_rate=0.0', 'load_from=None',
            'train_cfg.max_epochs=2', 'train_cfg.val_interval=1', 'param_scheduler.warmup=1',
            'default_hooks.logger.interval=4', 'train_dataloader.batch_size=4',
            # 13 broken files in 53: far above a real download's ~1 %
            'train_dataloader.dataset.max_bad_ratio=0.5',
            'train_dataloader.dataset.pipeline.5.scale=(16,16)',
            'val_dataloader.dataset.pipeline.3.scale=(-1,16)',
            'val_dataloader.dataset.pipeline.4.crop_size=16',
            'test_dataloader.dataset.pipeline.3.scale=(-1,16)',
            'test_dataloader.dataset.pipeline.4.crop_size=16', f'work_dir={work_dir}']
    for loader in ('train', 'val', 'test'):
        opts += [f'{loader}_dataloader.num_workers=1',
                 f'{loader}_dataloader.dataset.ann_file={ann}',
                 f'{loader}_dataloader.dataset.data_prefix.video={root}',
                 f'{loader}_dataloader.dataset.pipeline.1.clip_len=4',
                 f'{loader}_dataloader.dataset.pipeline.1.frame_interval=2']
    return opts


@pytest.mark.slow
def test_k400_recipe_trains_and_tests_over_broken_files(tmp_path):
    root = str(tmp_path / 'videos')
    paths = make_corpus(root)
    lines = [f'{k.name} {i}' for i, k in enumerate(KINDS)]
    for i in range(30):  # ordinary clips
        write_video(osp.join(root, f'clip_{i:02}.mp4'), num_frames=20, seed=i)
        lines.append(f'clip_{i:02}.mp4 {i % 10}')
    ann = osp.join(root, 'list.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    work = str(tmp_path / 'work')
    opts = shrink_options(root, ann, work)
    env = dict(os.environ, PYTHONPATH=REPO)
    train = [sys.executable, 'tools/train.py', K400, '--cfg-options', *opts]
    out = subprocess.run(train, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))
    skipped = set(re.findall(r'skipping unreadable sample (\S+):', log))
    assert {osp.basename(p) for p in skipped} == {k.name for k in KINDS if k.bad}
    assert len(re.findall(r'num_unreadable: 13\b', log)) == 2  # the validation of each epoch

    test = [sys.executable, 'tools/test.py', K400, osp.join(work, 'epoch_2.pth'),
            '--cfg-options', *opts]
    out = subprocess.run(test, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    report = log[log.index(f'{NUM_BAD} of {len(lines)} videos could not be read'):]
    listed = []
    for line in report.splitlines()[1:]:
        if not line.startswith('  '):
            break
        listed.append(line.strip())
    assert {osp.basename(p) for p in listed} == {k.name for k in KINDS if k.bad}
    metrics = re.findall(r'Epoch\(test\) \[\d+/\d+\]\s+acc/.*', log)[-1]  # the results line
    assert re.search(rf'num_unreadable: {NUM_BAD}\b', metrics)
    print('\n'.join(['train: python ' + ' '.join(train[1:]), 'test: python ' + ' '.join(test[1:]),
                     report[:1500], metrics]))
    assert all(osp.lexists(p) or k == 'missing.mp4' for k, p in paths.items())
