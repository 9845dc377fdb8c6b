"""Stop (or skip) on a NaN/inf loss before it reaches the weights or a checkpoint.

Without a guard, one NaN loss turns every weight into NaN at the next optimizer step; the run
then logs ``loss: nan`` to the end, saves checkpoints full of NaN and exits 0. This hook wraps
the optimizer wrapper's ``update_params`` when training starts: a non-finite loss is neither
back-propagated nor stepped. Then, after the iteration:

* ``action='stop'`` (default): the run stops with :class:`~vmae2.engine.finite.NonFiniteError`
  naming the iteration, every loss term and the last good checkpoint; the checkpoint hook runs
  after this one, so nothing is saved after the bad step;
* ``action='skip'``: the step is skipped and counted (a warning per step with the running
  count, a summary at the end, ``nonfinite_skipped_steps`` in the message hub and so in
  checkpoints); past ``max_skips`` skipped steps in all the run stops as above.

With mixed precision and a dynamic loss scale (fp16 ``AmpOptimWrapper`` on a GPU), a step whose
*gradients* overflow is skipped by the gradient scaler itself, which then halves the scale: that
is normal, a few times early in a run. Those steps are counted (the scale dropped across the
update), and only ``max_amp_skips`` of them in a row stop the run.

In distributed training the finiteness of the loss is agreed over all processes (one scalar
``all_reduce``), so every process skips or stops at the same step.
"""
import logging
from typing import Literal, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from vmae2.registry import HOOKS

from ..finite import NonFiniteError, format_losses, last_good_checkpoint

__all__ = ['NonFiniteLossHook']


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Guard the parameter updates against NaN/inf losses (see the module doc).

    Args:
        action: ``'stop'`` the run at the first non-finite loss, or ``'skip'`` such steps.
        max_skips: With ``'skip'``: stop after this many skipped steps in all (``None``: never).
        max_amp_skips: Gradient-scaler skips in a row (fp16 AMP) after which the run stops.
    """

    priority = 'LOW'  # after the logger (the bad iteration is logged), before the checkpoint

    def __init__(self, action: Literal['stop', 'skip'] = 'stop',
                 max_skips: Optional[int] = None, max_amp_skips: int = 20) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"action must be 'stop' or 'skip', got {action!r}")
        self.action = action
        self.max_skips = max_skips
        self.max_amp_skips = max_amp_skips
        self.num_skipped = 0
        self.num_amp_skipped = 0
        self.amp_run = 0
        self._bad_loss: Optional[float] = None  # the non-finite loss of this iteration
        self._amp_scale: Optional[float] = None

    # ------------------------------------------------------------------ wrapping the updates
    def before_train(self, runner) -> None:
        hub = runner.message_hub
        self.num_skipped = int(hub.get_info('nonfinite_skipped_steps', 0) or 0)
        self.num_amp_skipped = int(hub.get_info('amp_skipped_steps', 0) or 0)
        wrapper = runner.optim_wrapper
        wrappers = wrapper.values() if hasattr(wrapper, 'values') else [wrapper]
        for w in wrappers:
            if isinstance(w, OptimWrapper):
                self._guard(w)

    def _guard(self, wrapper: OptimWrapper) -> None:
        if getattr(wrapper, '_vmae2_nonfinite_guard', None) is self:
            return
        original = wrapper.update_params

        def update_params(loss: torch.Tensor, step_kwargs=None, zero_kwargs=None):
            if self._finite(loss):
                scaler = getattr(wrapper, 'loss_scaler', None)
                before = scaler.get_scale() if scaler is not None else None
                original(loss, step_kwargs=step_kwargs, zero_kwargs=zero_kwargs)
                if scaler is not None and wrapper.should_update():
                    self._count_amp(before, scaler.get_scale())
                return
            self._bad_loss = float(loss.detach().float().mean())
            # as if back-propagated: a skipped micro-batch adds nothing to the gradients,
            # and a window of accumulated ones still ends with its update
            wrapper._inner_count += 1
            if wrapper.should_update():
                if wrapper._accumulative_counts > 1:
                    wrapper.step(**(step_kwargs or {}))
                wrapper.zero_grad(**(zero_kwargs or {}))

        wrapper.update_params = update_params
        wrapper._vmae2_nonfinite_guard = self

    @staticmethod
    def _finite(loss: torch.Tensor) -> bool:
        """Whether the loss is finite on every process."""
        bad = (~torch.isfinite(loss.detach())).any().float().reshape(1)
        all_reduce(bad, op='max')  # a no-op without distributed training
        return not bool(bad.item())

    def _count_amp(self, before: float, after: float) -> None:
        if after < before:  # the scaler found inf/NaN gradients and skipped the step
            self.num_amp_skipped += 1
            self.amp_run += 1
            self._amp_scale = after
        else:
            self.amp_run = 0

    # ------------------------------------------------------------------ after the iteration
    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        it = runner.iter + 1  # the iteration just run, 1-based as the logger prints it
        where = f'iteration {it} (epoch {runner.epoch + 1})'
        advice = (f'Last good checkpoint: {last_good_checkpoint(runner.work_dir)}. Resume from '
                  f'it (tools/train.py --resume) with a lower learning rate or gradient '
                  f'clipping (optim_wrapper.clip_grad)')
        bad_loss, self._bad_loss = self._bad_loss, None
        if bad_loss is None and outputs and 'loss' in outputs:
            # a model that updates without the wrapper's update_params: too late to skip
            loss = torch.as_tensor(outputs['loss']).detach().float()
            if not bool(torch.isfinite(loss).all()):
                raise NonFiniteError(f'non-finite loss at {where}: {format_losses(outputs)}; '
                                     f'the update was already applied. {advice}.')
        if bad_loss is not None:
            if self.action == 'stop':
                raise NonFiniteError(
                    f'non-finite loss at {where}: {format_losses(outputs)}. The run stopped '
                    f'before that update (the weights are those of iteration {it - 1}) and saved '
                    f'nothing after it. {advice}, or set '
                    f'default_hooks.nonfinite_loss.action="skip" to skip such steps.')
            self.num_skipped += 1
            runner.message_hub.update_info('nonfinite_skipped_steps', self.num_skipped)
            print_log(f'skipped the update of {where}: non-finite loss '
                      f'({format_losses(outputs)}); {self.num_skipped} steps skipped so far',
                      logger='current', level=logging.WARNING)
            if self.max_skips is not None and self.num_skipped > self.max_skips:
                raise NonFiniteError(f'{self.num_skipped} steps skipped for non-finite losses '
                                     f'(max_skips={self.max_skips}), the last at {where}. '
                                     f'{advice}.')
        if self._amp_scale is not None:
            runner.message_hub.update_info('amp_skipped_steps', self.num_amp_skipped)
            print_log(f'fp16: the gradient scaler skipped the update of {where} (inf/NaN '
                      f'gradients), loss scale now {self._amp_scale:g}; {self.amp_run} in a '
                      f'row, {self.num_amp_skipped} in all', logger='current',
                      level=logging.INFO)
            self._amp_scale = None
            if self.amp_run >= self.max_amp_skips:
                raise NonFiniteError(
                    f'fp16: {self.amp_run} updates in a row skipped by the gradient scaler '
                    f'(inf/NaN gradients at every loss scale down to its current value), the '
                    f'last at {where}. {advice}, or train in bf16/fp32.')

    def after_train(self, runner) -> None:
        if self.num_skipped or self.num_amp_skipped:
            print_log(f'non-finite guard: {self.num_skipped} updates skipped for NaN/inf '
                      f'losses, {self.num_amp_skipped} skipped by the fp16 gradient scaler',
                      logger='current', level=logging.WARNING)
