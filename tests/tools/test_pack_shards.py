"""tools/data/pack_shards.py packs a config's list-file sources (the real clips and a
SyntheticMotion set) into tar shards with their metadata; the streaming main job trains two
epochs from them, is SIGKILLed mid-epoch and resumed with ``tools/train.py --resume``, and sees
the same clips and views, step for step, as an uninterrupted run - without reading the clips of
the resumed epoch it had already trained on."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import tarfile

import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from tests.helpers import DATA_ROOT, REAL_VIDEOS, REPO
from tests.helpers.runs import logged_losses
from tests.tools.soak_hooks import KILL_AT_ITER
from tests.tools.test_data_tools import run_tool
from vmae2.datasets import generate_synthetic_motion
from vmae2.datasets.streaming_dataset import read_index
from vmae2.registry import HOOKS

STREAMING = 'configs/pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion-streaming.py'
RECORD = 'samples.jsonl'


@HOOKS.register_module(force=True)
class SampleRecordHook(Hook):
    """Writes to ``work_dir/samples.jsonl``: the sampler's length when training starts, the
    (file name, view) of every sample of every step, and how many clips the dataset read."""

    priority = 'LOW'  # after StreamingResumeHook has set the sampler's start

    def _write(self, runner, **record) -> None:
        with open(osp.join(runner.work_dir, RECORD), 'a') as f:
            f.write(json.dumps(record) + '\n')

    def before_train(self, runner) -> None:
        self._write(runner, start_iter=runner.iter,
                    sampler_len=len(runner.train_dataloader.sampler))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._write(runner, iter=runner.iter + 1,
                    samples=[[osp.basename(s.filename), int(s.view_idx)]
                             for s in data_batch['data_samples']])

    def after_train(self, runner) -> None:
        self._write(runner, decoded=runner.train_dataloader.dataset.tracker.num_tried)


def _records(work_dir):
    with open(osp.join(work_dir, RECORD)) as f:
        return [json.loads(line) for line in f]


def _pack_config(tmp_path):
    """A config of two list-file sources: the real clips present here and 6 tiny synthetic
    clips; returns (config path, expected clips per source)."""
    real = [n for n in REAL_VIDEOS if osp.isfile(osp.join(DATA_ROOT, 'videos', n))]
    syn = generate_synthetic_motion(str(tmp_path / 'syn'), num_classes=3, clips_per_class=2,
                                    num_frames=16, size=32, val_ratio=0)
    sources = [dict(name='synthetic', ann_file=syn['pretrain_list'], root=syn['root'],
                    frame_interval=2)]
    if real:
        (tmp_path / 'real.txt').write_text(''.join(f'{n}\n' for n in real))
        sources.append(dict(name='real', ann_file=str(tmp_path / 'real.txt'),
                            root=osp.join(DATA_ROOT, 'videos'), frame_interval=4))
    cfg = Config(dict(default_scope='vmae2', train_dataloader=dict(
        dataset=dict(type='VideoPretrainDataset', sources=sources, pipeline=[]))))
    path = str(tmp_path / 'pack_cfg.py')
    cfg.dump(path)
    return path, dict(synthetic=6, **({'real': len(real)} if real else {}))


@pytest.fixture
def pack(tmp_path, capsys, monkeypatch):
    cfg, counts = _pack_config(tmp_path)
    stdout = run_tool(capsys, monkeypatch, 'tools/data/pack_shards.py', cfg,
                      str(tmp_path / 'shards'), '--shard-size-mb', '0.05')
    return str(tmp_path / 'shards'), counts, stdout


def test_pack_writes_shards_with_bytes_and_metadata(pack):
    shards, counts, stdout = pack
    index = read_index(shards)
    assert {s['name']: s['num_clips'] for s in index['sources']} == counts
    assert {s['name']: s['frame_interval'] for s in index['sources']}['synthetic'] == 2
    assert len(index['shards']) >= 2  # 50 kB shards
    total = sum(counts.values())
    assert f'packed {total} clips of {len(counts)} sources' in stdout
    rows = [(s['file'], r) for s in index['shards'] for r in s['members']]
    assert len(rows) == total and len({r[4] for _, r in rows}) == total
    names = [s['name'] for s in index['sources']]
    for file, (offset, size, _, source, path, start) in rows:
        with open(path, 'rb') as f:
            original = f.read()
        with open(osp.join(shards, file), 'rb') as f:  # the index points at the bytes
            f.seek(offset)
            assert f.read(size) == original
        assert start == 0
    with tarfile.open(osp.join(shards, index['shards'][0]['file'])) as tar:  # a plain tar
        members = tar.getnames()
        meta = json.load(tar.extractfile(members[1]))
    assert members[0].startswith('00000000.') and members[1] == '00000000.json'
    assert meta['path'] == rows[0][1][4] and meta['source'] == names[rows[0][1][3]]


def test_pack_refuses_frame_folders(tmp_path, capsys, monkeypatch):
    (tmp_path / 'frames.txt').write_text('clip_a 1 5\n')
    cfg = Config(dict(default_scope='vmae2', train_dataloader=dict(dataset=dict(
        type='VideoPretrainDataset', pipeline=[],
        sources=[dict(name='ava', ann_file=str(tmp_path / 'frames.txt'))]))))
    cfg.dump(str(tmp_path / 'cfg.py'))
    with pytest.raises(ValueError, match="source 'ava' holds frame folders"):
        run_tool(capsys, monkeypatch, 'tools/data/pack_shards.py', str(tmp_path / 'cfg.py'),
                 str(tmp_path / 'out'))
    assert not osp.exists(tmp_path / 'out' / 'index.json')


def _train(cfg_path, work_dir, *args, **env):
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path, '--work-dir',
           work_dir, *args]
    proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out, _ = proc.communicate(timeout=600)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the decode watchdog's helper
    except ProcessLookupError:
        pass
    return proc.returncode, out


@pytest.mark.slow
def test_killed_mid_epoch_and_resumed_sees_the_same_samples(pack, tmp_path):
    shards, counts, _ = pack
    total = sum(counts.values())
    per_epoch = -(-total // 2)  # batches of 2 clips
    kill_at = per_epoch + 3  # 2 batches into epoch 2: its last checkpoint is mid-epoch
    cfg = Config.fromfile(osp.join(REPO, STREAMING))
    cfg.merge_from_dict({
        'train_dataloader.dataset.shards': shards,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,  # the read counts are those of this process
        'train_dataloader.persistent_workers': False,
        'model.backbone.arch.num_layers': 1,
        'model.decoder.num_layers': 1,
        'train_cfg.max_epochs': 2,
        # one checkpoint inside epoch 2, where the kill lands (and the last one)
        'default_hooks.checkpoint': dict(by_epoch=False, interval=kill_at - 1),
        'default_hooks.logger.interval': 1,
        'visualizer.vis_backends': [dict(type='LocalVisBackend')],
    })
    cfg.train_dataloader.dataset.pipeline[0].timeout = None  # no decode helper process
    cfg.custom_imports = dict(imports=['tests.tools.soak_hooks', 'tests.tools.test_pack_shards'],
                              allow_failed_imports=False)
    cfg.custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
                        dict(type='StreamingResumeHook'), dict(type='FaultInjectionHook'),
                        dict(type='SampleRecordHook')]
    cfg_path = str(tmp_path / 'streaming_small.py')
    cfg.dump(cfg_path)

    full = str(tmp_path / 'full')  # the uninterrupted run, in this process (no start-up)
    cfg_full = Config.fromfile(cfg_path)
    cfg_full.work_dir, cfg_full.experiment_name = full, 'streaming_full'
    Runner.from_cfg(cfg_full).train()
    expected = {r['iter']: r['samples'] for r in _records(full) if 'iter' in r}
    assert sorted(expected) == list(range(1, 2 * per_epoch + 1))
    assert _records(full)[-1] == dict(decoded=2 * total)

    work = str(tmp_path / 'killed')
    rc, out = _train(cfg_path, work, **{KILL_AT_ITER: str(kill_at)})
    assert rc == -signal.SIGKILL, out[-3000:]
    rc, out = _train(cfg_path, work, '--resume')
    assert rc == 0, out[-3000:]
    records = _records(work)
    got = {r['iter']: r['samples'] for r in records if 'iter' in r}
    assert got == expected  # file name and view of every sample of every step
    assert f'epoch 2 resumes at clip 4 of {total}' in out and 'Advance dataloader' not in out
    resumed = records[[i for i, r in enumerate(records) if 'start_iter' in r][-1]:]
    assert resumed[0] == dict(start_iter=kill_at - 1, sampler_len=total - 4)
    assert resumed[-1] == dict(decoded=total - 4)  # the 4 seen clips were not read again
    losses, want = logged_losses(work), logged_losses(full)
    assert set(losses) == set(want)
    for step in want:
        assert losses[step] == pytest.approx(want[step], rel=1e-5, abs=1e-6), step
