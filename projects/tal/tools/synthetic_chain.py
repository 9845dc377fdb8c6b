"""The embedded TAL chain on SyntheticTAL, no download: generate -> fine-tune a tiny ViT on
trimmed windows -> extract features -> evaluate the untrained localizer -> train -> test.

    python projects/tal/tools/synthetic_chain.py [--work-dir work_dirs/tal_synthetic_chain]
        [--data-root data/synthetic_tal] [--num-train 128] [--num-test 32]

Every step is one of the toolbox's commands (printed before it runs), so each can be rerun by
hand:

1. ``generate_synthetic_tal`` (first use only: ~30 s);
2. ``tools/train.py projects/tal/configs/extract/vit-t-p16_1xb16-4e_synthetic-tal-windows.py``;
3. ``tools/extract_features.py`` with that config and checkpoint (16-frame windows, stride 4);
4. ``tools/test.py`` of the localizer config with its initial weights (the untrained baseline);
5. ``tools/train.py projects/tal/configs/actionformer_vit-t-feat_1xb8-25e_synthetic-tal.py``;
6. ``tools/test.py`` of the trained localizer (EMA weights); the predictions are written to
   ``<work-dir>/localizer/detections_test.json`` (ActivityNet results layout).

Prints the average mAP (tIoU 0.3:0.1:0.7) before and after training and the time of each step.
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, REPO)
CLS_CONFIG = 'projects/tal/configs/extract/vit-t-p16_1xb16-4e_synthetic-tal-windows.py'
LOC_CONFIG = 'projects/tal/configs/actionformer_vit-t-feat_1xb8-25e_synthetic-tal.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--work-dir', default='work_dirs/tal_synthetic_chain')
    p.add_argument('--data-root', default='data/synthetic_tal')
    p.add_argument('--num-train', type=int, default=128)
    p.add_argument('--num-test', type=int, default=32)
    p.add_argument('--seed', type=int, default=0, help='seed of the generated set')
    return p.parse_args(argv)


def run(cmd, log):
    print('$ ' + ' '.join(cmd), flush=True)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        with open(log) as f:
            tail = f.read()[-3000:]
        sys.exit(f'step failed (exit {proc.returncode}), log {log}:\n{tail}')
    return time.time() - start


def average_map(log):
    with open(log) as f:
        found = re.findall(r'tal/average_mAP: ([0-9.]+)', f.read())
    if not found:
        sys.exit(f'no tal/average_mAP in {log}')
    return float(found[-1])


def main(argv=None):
    args = parse_args(argv)
    from projects.tal.tal_vmae2.datasets import generate_synthetic_tal
    wd = osp.abspath(args.work_dir)
    os.makedirs(wd, exist_ok=True)
    py = sys.executable
    root = args.data_root
    feats = osp.join(root, 'features_vit-t')
    ann = osp.join(root, 'annotations.json')
    times = {}

    start = time.time()
    generate_synthetic_tal(root, num_train=args.num_train, num_test=args.num_test,
                           seed=args.seed)
    times['generate'] = time.time() - start

    cls_dir = osp.join(wd, 'classifier')
    cls_opts = [f'train_dataloader.dataset.ann_file={ann}',
                f'train_dataloader.dataset.video_dir={osp.join(root, "videos")}',
                f'val_dataloader.dataset.ann_file={ann}',
                f'val_dataloader.dataset.video_dir={osp.join(root, "videos")}']
    times['classifier'] = run([py, 'tools/train.py', CLS_CONFIG, '--work-dir', cls_dir,
                               '--cfg-options', *cls_opts], osp.join(wd, 'classifier.log'))
    with open(osp.join(cls_dir, 'last_checkpoint')) as f:
        cls_ckpt = f.read().strip()

    times['extract'] = run([py, 'tools/extract_features.py', CLS_CONFIG, cls_ckpt, '--videos',
                            osp.join(root, 'video_list.txt'), '--out', feats, '--stride', '4'],
                           osp.join(wd, 'extract.log'))

    loc_dir = osp.join(wd, 'localizer')
    loc_opts = []
    for part in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loc_opts += [f'{part}.dataset.ann_file={ann}', f'{part}.dataset.feature_dir={feats}']
    loc_opts += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
    init_ckpt = osp.join(wd, 'localizer_init.pth')
    save_initial_weights(LOC_CONFIG, init_ckpt)
    times['test untrained'] = run(
        [py, 'tools/test.py', LOC_CONFIG, init_ckpt, '--work-dir', osp.join(wd, 'untrained'),
         '--cfg-options', *loc_opts, 'test_evaluator.out_file='], osp.join(wd, 'untrained.log'))
    untrained = average_map(osp.join(wd, 'untrained.log'))

    times['train localizer'] = run([py, 'tools/train.py', LOC_CONFIG, '--work-dir', loc_dir,
                                    '--cfg-options', *loc_opts],
                                   osp.join(wd, 'localizer_train.log'))
    with open(osp.join(loc_dir, 'last_checkpoint')) as f:
        loc_ckpt = f.read().strip()
    det_file = osp.join(loc_dir, 'detections_test.json')
    times['test trained'] = run(
        [py, 'tools/test.py', LOC_CONFIG, loc_ckpt, '--work-dir', loc_dir, '--cfg-options',
         *loc_opts, f'test_evaluator.out_file={det_file}'], osp.join(wd, 'trained.log'))
    trained = average_map(osp.join(wd, 'trained.log'))

    summary = dict(untrained_average_mAP=untrained, trained_average_mAP=trained,
                   seconds={k: round(v, 1) for k, v in times.items()},
                   total_seconds=round(sum(times.values()), 1), detections=det_file)
    with open(osp.join(wd, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print('\n'.join(f'{k:>16}: {v:6.1f} s' for k, v in times.items()))
    print(f'average mAP (tIoU 0.3:0.1:0.7) untrained {untrained * 100:.2f}, trained '
          f'{trained * 100:.2f}; total {sum(times.values()):.0f} s; {wd}/summary.json')
    return summary


def save_initial_weights(config: str, path: str) -> None:
    """The localizer as the runner would initialise it (seed 0), as a checkpoint."""
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    MMLogger.get_instance('tal_synthetic_chain', log_level='WARNING')  # no per-weight init log
    cfg = Config.fromfile(osp.join(REPO, config))
    init_default_scope('vmae2')
    import projects.tal.tal_vmae2  # noqa: F401
    from vmae2.registry import MODELS
    set_random_seed(cfg.randomness.get('seed', 0))
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict(note='initial weights')), path)


if __name__ == '__main__':
    main()
