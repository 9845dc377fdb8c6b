"""NonFiniteLossHook: a NaN loss at a chosen iteration stops the run with the iteration, the loss
terms and the last good checkpoint (which stays last_checkpoint, no NaN saved); 'skip' skips
and counts; fp16 gradient-scaler skips are counted and only a run of them stops."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

from tests.helpers.toy import ToyRegressor, toy_cfg
from vmae2.engine.finite import NonFiniteError
from vmae2.registry import MODELS, OPTIM_WRAPPERS


@MODELS.register_module(force=True)
class GlitchyRegressor(ToyRegressor):
    """The toy regressor whose loss is NaN (or whose gradients are inf) at chosen calls."""

    def __init__(self, nan_at=(), inf_grad_at=(), dim: int = 4):
        super().__init__(dim)
        self.nan_at, self.inf_grad_at = set(nan_at), set(inf_grad_at)
        self.calls = 0

    def forward(self, inputs, targets=None, mode='tensor'):
        out = super().forward(inputs, targets, mode)
        if mode != 'loss':
            return out
        self.calls += 1
        if self.calls in self.nan_at:
            out['loss'] = out['loss'] * float('nan')
        if self.calls in self.inf_grad_at:  # finite loss, inf gradients
            out['loss'] = _InfGrad.apply(out['loss'])
        out['loss_aux'] = torch.ones(())  # a second, constant term: named in the message
        return out


class _InfGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float('inf')


@OPTIM_WRAPPERS.register_module(force=True)
class CpuScalerOptimWrapper(OptimWrapper):
    """MMEngine's AmpOptimWrapper logic (scale, unscale, step, update) with a CPU GradScaler:
    the real scaler's skip-and-halve behaviour, testable without a GPU."""

    def __init__(self, init_scale: float = 2.0**8, **kwargs):
        super().__init__(**kwargs)
        self.loss_scaler = torch.amp.GradScaler('cpu', init_scale=init_scale)

    def backward(self, loss, **kwargs):
        self.loss_scaler.scale(loss).backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs):
        self.loss_scaler.unscale_(self.optimizer)
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()


def _cfg(work_dir, model, hook=None, max_iters=8, interval=2, wrapper=None):
    cfg = toy_cfg(work_dir, max_iters=max_iters, interval=interval)
    cfg['model'] = dict(type='GlitchyRegressor', **model)
    cfg['default_hooks']['checkpoint'] = dict(type='AtomicCheckpointHook', interval=interval,
                                              by_epoch=False)
    cfg['default_hooks']['nonfinite_loss'] = dict(type='NonFiniteLossHook', **(hook or {}))
    if wrapper:
        cfg['optim_wrapper'].update(wrapper)
    return Config(cfg)


def test_nan_stops_with_iteration_terms_and_last_good_checkpoint(tmp_path):
    work = str(tmp_path / 'w')
    runner = Runner.from_cfg(_cfg(work, dict(nan_at=[6])))
    with pytest.raises(NonFiniteError) as info:
        runner.train()
    msg = str(info.value)
    assert 'non-finite loss at iteration 6 (epoch 1)' in msg
    assert 'loss=nan' in msg and 'loss_aux=1' in msg
    assert f'Last good checkpoint: {osp.join(work, "iter_4.pth")}' in msg
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work, 'iter_4.pth')
    assert not osp.exists(osp.join(work, 'iter_6.pth'))
    # the NaN step was never applied: the weights are iteration 5's, finite
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_nan_before_any_checkpoint_says_so(tmp_path):
    runner = Runner.from_cfg(_cfg(str(tmp_path / 'w'), dict(nan_at=[1])))
    with pytest.raises(NonFiniteError, match=r'iteration 1 .*Last good checkpoint: none'):
        runner.train()


def test_skip_mode_skips_counts_and_finishes(tmp_path):
    work = str(tmp_path / 'w')
    runner = Runner.from_cfg(_cfg(work, dict(nan_at=[3, 5]), hook=dict(action='skip')))
    runner.train()
    assert runner.iter == 8
    assert runner.message_hub.get_info('nonfinite_skipped_steps') == 2
    ckpt = torch.load(osp.join(work, 'iter_8.pth'), weights_only=True)
    assert ckpt['message_hub']['runtime_info']['nonfinite_skipped_steps'] == 2
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())
    # too many skipped steps stop the run
    runner = Runner.from_cfg(_cfg(str(tmp_path / 'w2'), dict(nan_at=[2, 3, 4]),
                                  hook=dict(action='skip', max_skips=2)))
    with pytest.raises(NonFiniteError, match='3 steps skipped .*max_skips=2'):
        runner.train()


def test_skipped_step_leaves_weights_and_optimizer_untouched(tmp_path):
    """A skipped iteration changes nothing: the weights after it equal those before it."""
    runner = Runner.from_cfg(_cfg(str(tmp_path / 'w'), dict(nan_at=[3]),
                                  hook=dict(action='skip'), max_iters=3))
    seen = {}

    from mmengine.hooks import Hook

    class Snapshot(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            seen[runner.iter] = runner.model.linear.weight.detach().clone()

    runner.register_hook(Snapshot(), priority='VERY_LOW')
    runner.train()
    assert torch.equal(runner.model.linear.weight, seen[2])  # iteration 3 skipped
    assert not torch.equal(seen[2], seen[1])  # ordinary steps do update


def test_amp_scaler_skips_are_counted_and_only_a_run_stops(tmp_path):
    wrapper = dict(type='CpuScalerOptimWrapper', init_scale=2.0**8)
    # 3 overflows in a row: counted, the scale halves 3 times, the run goes on
    runner = Runner.from_cfg(_cfg(str(tmp_path / 'a'), dict(inf_grad_at=[2, 3, 4]),
                                  hook=dict(max_amp_skips=4), wrapper=wrapper))
    runner.train()
    assert runner.iter == 8
    assert runner.message_hub.get_info('amp_skipped_steps') == 3
    assert runner.optim_wrapper.loss_scaler.get_scale() == 2.0**5
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    # 4 in a row with max_amp_skips=4: stop, naming the run
    runner = Runner.from_cfg(_cfg(str(tmp_path / 'b'), dict(inf_grad_at=[3, 4, 5, 6]),
                                  hook=dict(max_amp_skips=4), wrapper=wrapper))
    with pytest.raises(NonFiniteError, match='fp16: 4 updates in a row skipped .*iteration 6'):
        runner.train()
