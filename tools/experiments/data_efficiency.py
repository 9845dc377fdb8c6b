"""VideoMAE V2's data-efficiency result in miniature, on the embedded SyntheticMotion set.

For each seed: pretrain a tiny ViT with dual masking (no labels), fine-tune it, and train the
same ViT from scratch with the same fine-tuning budget; then report both validation accuracies
(mean +- std over seeds) and plot the curves. About 30 CPU minutes with the default configs and
two seeds.

    python tools/experiments/data_efficiency.py --work-dir work_dirs/data_efficiency \
        [--seeds 0 1] [--pretrain-epochs 40] [--finetune-epochs 30] [--report-only]
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from vmae2.setup_env import register_all_modules  # noqa: E402

CFG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
                   'experiments')
PRETRAIN = 'data_efficiency_pretrain_vit-t-p8_1xb8-40e_synthetic-motion.py'
FINETUNE = 'data_efficiency_finetune_vit-t-p8_1xb16-30e_synthetic-motion.py'
SCRATCH = 'data_efficiency_scratch_vit-t-p8_1xb16-30e_synthetic-motion.py'


def _with_epochs(cfg: Config, epochs: int) -> None:
    """Shorten a schedule (trial runs), scaling the warmup with it."""
    # the cosine ends with the train loop (WarmupCosineLR); a one-epoch trial: cosine only
    cfg.param_scheduler.warmup = min(
        epochs - 1, round(cfg.param_scheduler.warmup * epochs / cfg.train_cfg.max_epochs))
    cfg.train_cfg.max_epochs = epochs
    cfg.default_hooks.checkpoint.interval = epochs
    if 'val_interval' in cfg.train_cfg:
        cfg.train_cfg.val_interval = max(1, min(cfg.train_cfg.val_interval, epochs))


def _with_data(cfg: Config, root: str = None, clips_per_class: int = None) -> None:
    """Point every SyntheticMotion dataloader of ``cfg`` at another set (tests, trial runs)."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg.get(name, {}).get('dataset')
        if dataset is None:
            continue
        if root is not None:
            dataset.root = root
        if clips_per_class is not None:
            dataset.generator.clips_per_class = clips_per_class


def run(config: str, work_dir: str, seed: int, epochs: int, load_from: str = None,
        data_root: str = None, clips_per_class: int = None) -> Runner:
    cfg = Config.fromfile(osp.join(CFG_DIR, config))
    cfg.work_dir = work_dir
    _with_data(cfg, data_root, clips_per_class)
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.load_from = load_from
    _with_epochs(cfg, epochs)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def val_curve(work_dir: str):
    """``[(epoch, top1)]`` from the LocalVisBackend scalars of the last run in ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    curve = []
    with open(files[-1]) as f:
        for line in f:
            rec = json.loads(line)
            if 'acc/top1' in rec:
                curve.append((rec.get('epoch', rec.get('step')), rec['acc/top1']))
    return curve


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/data_efficiency')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--pretrain-epochs', type=int, default=40)
    parser.add_argument('--finetune-epochs', type=int, default=30)
    parser.add_argument('--data-root',
                        help='another SyntheticMotion folder (default: the configs\')')
    parser.add_argument('--clips-per-class', type=int, help='a smaller set (trial runs, tests)')
    parser.add_argument('--report-only', action='store_true',
                        help='print and plot the results.json already in --work-dir')
    args = parser.parse_args(argv)
    if args.report_only:
        with open(osp.join(args.work_dir, 'results.json')) as f:
            return report(json.load(f), args.work_dir)
    register_all_modules(init_default_scope=False)

    results = {'pretrained': {}, 'scratch': {}}
    for seed in args.seeds:
        root = osp.join(args.work_dir, f'seed{seed}')
        data = dict(data_root=args.data_root, clips_per_class=args.clips_per_class)
        pre = run(PRETRAIN, osp.join(root, 'pretrain'), seed, args.pretrain_epochs, **data)
        ckpt = osp.join(pre.work_dir, f'epoch_{args.pretrain_epochs}.pth')
        run(FINETUNE, osp.join(root, 'finetune'), seed, args.finetune_epochs, load_from=ckpt,
            **data)
        run(SCRATCH, osp.join(root, 'scratch'), seed, args.finetune_epochs, **data)
        results['pretrained'][seed] = val_curve(osp.join(root, 'finetune'))
        results['scratch'][seed] = val_curve(osp.join(root, 'scratch'))

    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    return report(results, args.work_dir)


def report(results: dict, work_dir: str) -> dict:
    """Prints mean +- std of the final top-1 per arm and plots the curves; returns the finals."""
    import numpy as np
    finals = {}
    for name, curves in results.items():
        final = finals[name] = np.array([c[-1][1] for c in curves.values()])
        print(f'{name:>10}: final top-1 {final.mean():.3f} ± {final.std():.3f} '
              f'over seeds {list(curves)} ({", ".join(f"{a:.3f}" for a in final)})')

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, color in (('pretrained', 'tab:blue'), ('scratch', 'tab:orange')):
        for i, (seed, curve) in enumerate(results[name].items()):
            ep, acc = zip(*curve)
            what = 'dual-mask pretrained' if name == 'pretrained' else 'from scratch'
            ax.plot(ep, acc, color=color, marker='o', alpha=.8,
                    label=(f'{what}: final {finals[name].mean():.3f} ± {finals[name].std():.3f}'
                           f' ({len(finals[name])} seeds)') if i == 0 else None)
    ax.set_xlabel('fine-tuning epoch')
    ax.set_ylabel('val top-1')
    ax.set_ylim(0, 1.1)  # room for the legend above the curves
    ax.set_title('SyntheticMotion: pretrained vs from scratch')
    ax.legend(loc='upper left', fontsize=9)
    fig.tight_layout()
    out = osp.join(work_dir, 'data_efficiency.png')
    fig.savefig(out, dpi=120)
    print(f'curves: {out}')
    return {name: final.tolist() for name, final in finals.items()}


if __name__ == '__main__':
    main()
