"""Watch reconstructions improve during pretraining.

Keeps the first clips the run trains on (and their masks) and, every ``interval`` iterations and
at the end of training, renders original / masked / reconstruction grids of them with the current
weights: the same clips and masks each time, so the pictures can be compared along the run.
The PNGs land in ``<work_dir>/reconstructions/`` and go to the visualizer's backends
(TensorBoard's image tab with ``TensorboardVisBackend``).
"""
import copy
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vmae2.registry import HOOKS
from vmae2.visualization import render_reconstructions, save_rgb


@HOOKS.register_module()
class ReconstructionVisHook(Hook):
    """Render reconstruction grids of a fixed batch during pretraining.

    Args:
        interval: every this many training iterations (and once after training).
        num_clips: clips per picture.
        max_frames: frames (columns) per clip.
        scale: integer up-scaling of small frames.
        out_dir: folder under the work dir.
        decode_all: decode every patch the encoder did not see (the decoder can take any query
            set), for a complete picture; False shows only the running-cell queries of dual
            masking, as trained (the others greyed out).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 100, num_clips: int = 2, max_frames: int = 8,
                 scale: int = 2, out_dir: str = 'reconstructions', decode_all: bool = True):
        self.interval = interval
        self.num_clips = num_clips
        self.max_frames = max_frames
        self.scale = scale
        self.out_dir = out_dir
        self.decode_all = decode_all
        self._batch: Optional[dict] = None
        self.saved = []

    def _model(self, runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None):
        if self._batch is None and data_batch is not None:
            n = self.num_clips
            self._batch = dict(inputs=copy.deepcopy(list(data_batch['inputs'][:n])),
                               data_samples=copy.deepcopy(list(data_batch['data_samples'][:n])))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None):
        if self.every_n_train_iters(runner, self.interval) or runner.iter == 0:
            self.render(runner, runner.iter + 1)

    def after_train(self, runner):
        if not self.saved or not self.saved[-1].endswith(f'iter_{runner.iter}.png'):
            self.render(runner, runner.iter)

    @torch.no_grad()
    def render(self, runner, step: int) -> Optional[str]:
        """Render the kept batch with the current weights; returns the PNG path (rank 0)."""
        if self._batch is None or runner.rank != 0:
            return None
        model = self._model(runner)
        was_training = model.training
        model.eval()
        try:
            data = model.data_preprocessor(copy.deepcopy(self._batch), False)
            enc, dec = model.get_masks(data['inputs'], data['data_samples'])
            if self.decode_all:
                dec = None
            image = render_reconstructions(
                model, data['inputs'], enc, dec, max_clips=self.num_clips,
                max_frames=self.max_frames, scale=self.scale, title_prefix=f'iter {step}: ')
        finally:
            model.train(was_training)
        folder = osp.join(runner.work_dir, self.out_dir)
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, f'iter_{step}.png')
        save_rgb(path, image)
        runner.visualizer.add_image('reconstruction', image, step=step)
        self.saved.append(path)
        runner.logger.info(f'reconstruction grid saved to {path}')
        return path
