"""Checkpoints that can always be resumed from: atomic writes (a kill mid-write leaves the old
file), last_checkpoint replaced only after the new file is in place, old files deleted last,
no NaN weights saved, and --resume skipping torn or foreign checkpoints."""
import copy
import glob
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests.helpers import REPO
from tests.helpers.toy import toy_cfg
from vmae2.engine.atomic_io import KILL_ENV, atomic_write_bytes
from vmae2.engine.finite import NonFiniteError
from vmae2.engine.resume import find_resumable_checkpoint


def _atomic_cfg(work_dir: str, max_iters: int = 8, interval: int = 2, keep: int = 2) -> dict:
    cfg = toy_cfg(work_dir, max_iters=max_iters, interval=interval)
    cfg['default_hooks']['checkpoint'] = dict(type='AtomicCheckpointHook', interval=interval,
                                              by_epoch=False, max_keep_ckpts=keep)
    return cfg


def test_kill_in_the_middle_of_a_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'epoch_3.pth'
    path.write_bytes(b'old checkpoint')
    code = ('import sys; from vmae2.engine.atomic_io import atomic_write_bytes; '
            f'atomic_write_bytes({str(path)!r}, bytes(range(256)) * 1000)')
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                          env=dict(os.environ, **{KILL_ENV: 'epoch_3.pth'}))
    assert proc.returncode == -9  # SIGKILL, half way through the write
    assert path.read_bytes() == b'old checkpoint'
    tmp = [n for n in os.listdir(tmp_path) if n != 'epoch_3.pth']
    assert len(tmp) == 1 and tmp[0].startswith('.epoch_3.pth.tmp-')
    assert (tmp_path / tmp[0]).stat().st_size == 128_000  # half of the new content
    atomic_write_bytes(str(path), b'new')  # without the kill point: replaced whole
    assert path.read_bytes() == b'new'


def test_order_of_file_operations(tmp_path, monkeypatch):
    """Per save: temp file renamed onto the checkpoint, then last_checkpoint, then deletion of
    the checkpoint that fell out of max_keep_ckpts - never the other way round."""
    events = []
    real_replace, real_remove = os.replace, os.remove

    def replace(src, dst):
        events.append(('replace', osp.basename(dst)))
        real_replace(src, dst)

    def remove(path):
        events.append(('remove', osp.basename(path)))
        real_remove(path)

    monkeypatch.setattr(os, 'replace', replace)
    monkeypatch.setattr(os, 'remove', remove)
    runner = Runner.from_cfg(Config(_atomic_cfg(str(tmp_path / 'w'), max_iters=6, keep=2)))
    runner.train()
    saves = [e for e in events if e[1] != 'last_checkpoint' or e[0] == 'replace']
    assert saves == [('replace', 'iter_2.pth'), ('replace', 'last_checkpoint'),
                     ('replace', 'iter_4.pth'), ('replace', 'last_checkpoint'),
                     ('replace', 'iter_6.pth'), ('replace', 'last_checkpoint'),
                     ('remove', 'iter_2.pth')]
    assert sorted(n for n in os.listdir(tmp_path / 'w') if n.endswith('.pth')) == \
        ['iter_4.pth', 'iter_6.pth']
    with open(tmp_path / 'w' / 'last_checkpoint') as f:
        assert f.read() == str(tmp_path / 'w' / 'iter_6.pth')
    # still weights-only loadable, message hub as plain data (SafeCheckpointHook)
    ckpt = torch.load(tmp_path / 'w' / 'iter_6.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 6 and ckpt['message_hub']['runtime_info']['keep_ckpt_ids'] \
        == [4, 6]


def test_previous_best_is_deleted_only_after_the_new_best_is_in_place(tmp_path, monkeypatch):
    cfg = _atomic_cfg(str(tmp_path / 'w'), max_iters=2, interval=2)
    cfg['default_hooks']['checkpoint'].update(save_best='acc', rule='greater')
    runner = Runner.from_cfg(Config(cfg))
    runner.train()
    hook = next(h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')
    hook._save_best_checkpoint(runner, {'acc': 0.5})
    assert osp.isfile(tmp_path / 'w' / 'best_acc_iter_2.pth')
    events = []
    real_replace, real_remove = os.replace, os.remove
    monkeypatch.setattr(os, 'replace', lambda a, b: (events.append(('replace', osp.basename(b))),
                                                     real_replace(a, b)))
    monkeypatch.setattr(os, 'remove', lambda a: (events.append(('remove', osp.basename(a))),
                                                 real_remove(a)))
    runner.train_loop._iter = 3  # a later validation with a better score
    hook._save_best_checkpoint(runner, {'acc': 0.7})
    names = [e for e in events if e[1] != 'last_checkpoint']
    assert names.index(('replace', 'best_acc_iter_3.pth')) < names.index(
        ('remove', 'best_acc_iter_2.pth'))
    assert not osp.exists(tmp_path / 'w' / 'best_acc_iter_2.pth')
    assert torch.load(tmp_path / 'w' / 'best_acc_iter_3.pth', weights_only=True)['meta']


def test_nan_weights_are_never_saved(tmp_path):
    runner = Runner.from_cfg(Config(_atomic_cfg(str(tmp_path / 'w'), max_iters=4, interval=2)))
    runner.train()
    with torch.no_grad():
        runner.model.linear.weight[0, 1] = float('nan')
    hook = next(h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')
    with pytest.raises(NonFiniteError, match=r'linear\.weight.*Last good checkpoint: .*iter_4'):
        hook._save_checkpoint_with_step(runner, 6, dict(epoch=0, iter=6))
    assert not osp.exists(tmp_path / 'w' / 'iter_6.pth')
    with open(tmp_path / 'w' / 'last_checkpoint') as f:
        assert f.read().endswith('iter_4.pth')


def test_resume_skips_torn_and_foreign_checkpoints(tmp_path):
    work = tmp_path / 'w'
    runner = Runner.from_cfg(Config(_atomic_cfg(str(work), max_iters=8, interval=2, keep=4)))
    runner.train()
    model = runner.model
    assert find_resumable_checkpoint(str(work), model) == str(work / 'iter_8.pth')
    # the newest truncated (a kill during an in-place write), a foreign file newer still,
    # an empty last_checkpoint
    data = (work / 'iter_8.pth').read_bytes()
    (work / 'iter_8.pth').write_bytes(data[:len(data) // 2])
    foreign = torch.load(work / 'iter_6.pth', weights_only=True)
    foreign['state_dict'] = {'other.weight': torch.zeros(3)}
    foreign['meta']['iter'] = 10
    torch.save(foreign, work / 'iter_10.pth')
    torch.save({'state_dict': dict(model.state_dict())}, work / 'weights_only.pth')
    (work / 'last_checkpoint').write_text('')
    assert find_resumable_checkpoint(str(work), model) == str(work / 'iter_6.pth')
    # and the runner resumes from it
    cfg = _atomic_cfg(str(work), max_iters=8, interval=2, keep=4)
    cfg.update(resume=True, load_from=find_resumable_checkpoint(str(work), model))
    resumed = Runner.from_cfg(Config(cfg))
    resumed.train()
    assert resumed.iter == 8
    assert torch.allclose(resumed.model.linear.weight, model.linear.weight, atol=1e-6)


def _run_train_tool(monkeypatch, *argv):
    """tools/train.py in this process (a subprocess would spend its time importing)."""
    monkeypatch.setattr(sys, 'argv', ['tools/train.py', *argv])
    runpy.run_path(osp.join(REPO, 'tools', 'train.py'), run_name='__main__')


def _logs(work) -> str:
    return ''.join(open(p).read() for p in sorted(glob.glob(str(work / '*' / '*.log'))))


def test_train_tool_resume_falls_back_to_a_loadable_checkpoint(tmp_path, monkeypatch):
    """tools/train.py --resume with last_checkpoint naming a truncated file: a warning names
    it, the run resumes from the previous checkpoint and finishes."""
    work = tmp_path / 'work'
    cfg = _atomic_cfg(str(work), max_iters=6, interval=2, keep=3)
    cfg['log_level'] = 'INFO'
    cfg_path = tmp_path / 'toy.py'
    Config(copy.deepcopy(cfg)).dump(str(cfg_path))
    _run_train_tool(monkeypatch, str(cfg_path))
    data = (work / 'iter_6.pth').read_bytes()
    (work / 'iter_6.pth').write_bytes(data[:int(len(data) * 0.95)])
    _run_train_tool(monkeypatch, str(cfg_path), '--resume', '--cfg-options',
                    'train_cfg.max_iters=8', f'experiment_name=resumed_{tmp_path.name}')
    log = _logs(work)
    assert f'--resume: skipping {work / "iter_6.pth"}: it does not load' in log
    assert f'--resume: resuming from {work / "iter_4.pth"}' in log
    assert 'resumed epoch: 0, iter: 4' in log
    assert torch.load(work / 'iter_8.pth', weights_only=True)['meta']['iter'] == 8
