"""Fault injection for the soak tests, driven by environment variables (no-ops without them).

* ``VMAE2_TEST_KILL_AT_ITER=k``: the process SIGKILLs itself before training iteration ``k``
  (1-based);
* ``VMAE2_TEST_NAN_AT_ITER=k``: the model's losses of iteration ``k`` become NaN (a forward
  hook on the model; the weights are untouched).

The kill *inside* a checkpoint write is :data:`vmae2.engine.atomic_io.KILL_ENV`.
"""
import os
import signal

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vmae2.registry import HOOKS

KILL_AT_ITER = 'VMAE2_TEST_KILL_AT_ITER'
NAN_AT_ITER = 'VMAE2_TEST_NAN_AT_ITER'


def _nan_losses(module, args, kwargs, output):
    if kwargs.get('mode') != 'loss' or not isinstance(output, dict):
        return output
    return {k: v * float('nan') if 'loss' in k else v for k, v in output.items()}


@HOOKS.register_module(force=True)
class FaultInjectionHook(Hook):
    """Kills the process or poisons the loss at the iterations the environment names."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.kill_at = int(os.environ.get(KILL_AT_ITER, 0) or 0)
        self.nan_at = int(os.environ.get(NAN_AT_ITER, 0) or 0)
        self._handle = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        it = runner.iter + 1
        if it == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if it == self.nan_at:
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            self._handle = model.register_forward_hook(_nan_losses, with_kwargs=True)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
