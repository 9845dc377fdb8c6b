"""``load_from`` for every stage of progressive training: any checkpoint layout, K710 heads.

MMEngine's ``load_from`` copies a checkpoint's ``state_dict`` key by key, so a pretraining
checkpoint (``encoder.*``) or an official fine-tuned one (``blocks.*``, ``head.*``) loads
nothing into a recognizer (``backbone.*``, ``cls_head.fc_cls.*``), and a 710-class head is
skipped for a K400 model. Right after reading the file and before copying it, the runner calls
``after_load_checkpoint``; this hook there rewrites the checkpoint's ``state_dict`` into the
model's own keys with :func:`vmae2.checkpoints.load_checkpoint` (which converts the
layout, drops the pretraining decoder and maps a K710 head onto K400 / K600 / K700 rows with
the official index lists). A checkpoint that already fits the model (resuming) is left alone.
"""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vmae2.checkpoints import load_checkpoint
from vmae2.registry import HOOKS

__all__ = ['OfficialCheckpointHook']


@HOOKS.register_module()
class OfficialCheckpointHook(Hook):
    """Convert whatever ``load_from`` points at to the model's keys (see the module doc)."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        own = model.state_dict()
        sd = checkpoint.get('state_dict', checkpoint)
        fits = all(k in sd and sd[k].shape == v.shape for k, v in own.items()
                   if not k.startswith('data_preprocessor'))
        if fits:
            return
        load_checkpoint(model, {k: v for k, v in checkpoint.items()})
        # the runner copies `state_dict` next: hand it the converted weights
        checkpoint['state_dict'] = {k: v.clone() for k, v in model.state_dict().items()}
