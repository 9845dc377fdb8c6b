"""``CheckpointHook`` whose checkpoints can always be resumed from.

MMEngine's hook (0.10) writes a checkpoint in place without ``fsync``, deletes the oldest kept
checkpoint *before* writing the new one (and the previous best before the new best), and
rewrites ``last_checkpoint`` in place. A kill at the wrong moment leaves a truncated newest
checkpoint, an empty ``last_checkpoint``, or no intact checkpoint at all. This hook keeps the
same arguments, file names and message-hub records, and changes the order of the file system
operations:

1. the weights are checked: a model with NaN/inf weights is never saved (the run stops with
   :class:`~vmae2.engine.finite.NonFiniteError`, naming the tensors and the last good file);
2. the checkpoint goes to a temporary file in the same folder, flushed, fsync-ed and renamed
   (:mod:`vmae2.engine.atomic_io`);
3. only then is ``last_checkpoint`` replaced, atomically too;
4. only then are the checkpoints that fell out of ``max_keep_ckpts`` (or the previous best)
   deleted.

Temporary files left by a killed save are removed when training (re)starts.
"""
import os
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper

from vmae2.registry import HOOKS

from ..atomic_io import atomic_write_text, is_temporary
from ..finite import NonFiniteError, last_good_checkpoint, nonfinite_tensors

__all__ = ['AtomicCheckpointHook']


class _DeferredRemoval:
    """A file backend whose ``remove`` / ``rmtree`` are queued until :meth:`flush`."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.queue: List[str] = []

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path) -> None:
        self.queue.append(str(path))

    def rmtree(self, path) -> None:
        self.queue.append(str(path))

    def flush(self, keep: List[Optional[str]]) -> None:
        """Deletes the queued paths, except those in ``keep`` (files just written)."""
        keep = {str(k) for k in keep if k}
        for path in self.queue:
            if path in keep:
                continue
            if self._backend.isfile(path):
                self._backend.remove(path)
            elif self._backend.isdir(path):
                self._backend.rmtree(path)
        self.queue.clear()


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` (same arguments) with crash-safe saving.

    Args:
        check_finite: Refuse to save weights holding NaN or inf.
        **kwargs: ``CheckpointHook`` arguments (``interval``, ``max_keep_ckpts``,
            ``save_best``...). Local checkpoints are written through the
            ``'vmae2_atomic_local'`` file backend unless ``backend_args`` names another.
    """

    def __init__(self, check_finite: bool = True, **kwargs) -> None:
        if kwargs.get('backend_args') is None and kwargs.get('file_client_args') is None:
            kwargs['backend_args'] = dict(backend='vmae2_atomic_local')
        super().__init__(**kwargs)
        self.check_finite = check_finite

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self.file_backend = _DeferredRemoval(self.file_backend)
        if is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if is_temporary(name):  # the half-written file of a killed save
                    runner.logger.warning(f'removing {name}, left by an interrupted save')
                    os.remove(osp.join(self.out_dir, name))

    def _check_weights(self, runner) -> None:
        if not self.check_finite:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bad = nonfinite_tensors(model.state_dict())
        if bad:
            raise NonFiniteError(
                f'not saving a checkpoint at iteration {runner.iter}: the weights hold NaN or '
                f'inf ({", ".join(bad)}). Last good checkpoint: '
                f'{last_good_checkpoint(runner.work_dir)}. Lower the learning rate or enable '
                f'gradient clipping, then resume from it.')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        self._check_weights(runner)
        # bookkeeping of the kept checkpoints as MMEngine does, the deletion deferred
        if self.max_keep_ckpts > 0:
            if not (len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    old = self.keep_ckpt_ids.popleft()
                    if is_main_process():
                        self.file_backend.remove(self.file_backend.join_path(
                            self.out_dir, self.filename_tmpl.format(old)))
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(  # atomic: temp file, fsync, rename
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt))
        self.file_backend.flush(keep=[self.last_ckpt, *self._best_paths()])

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if self.save_best:
            self._check_weights(runner)
        super()._save_best_checkpoint(runner, metrics)  # removals queued, run after the save
        if is_main_process() and isinstance(self.file_backend, _DeferredRemoval):
            self.file_backend.flush(keep=[self.last_ckpt, *self._best_paths()])

    def _best_paths(self) -> List[Optional[str]]:
        """The current best checkpoint(s): never deleted by a flush."""
        return [getattr(self, 'best_ckpt_path', None),
                *(getattr(self, 'best_ckpt_path_dict', None) or {}).values()]
