"""``load_from`` for every stage of progressive training: any checkpoint layout, K710 heads.

MMEngine's ``load_from`` copies a checkpoint's ``state_dict`` key by key, so a pretraining
checkpoint (``encoder.*``) or an official fine-tuned one (``blocks.*``, ``head.*``) loads
nothing into a recognizer (``backbone.*``, ``cls_head.fc_cls.*``), and a 710-class head is
skipped for a K400 model. Right after reading the file and before copying it, the runner calls
``after_load_checkpoint``; this hook there rewrites the checkpoint's ``state_dict`` into the
model's own keys with :func:`vmae2.checkpoints.load_checkpoint` (which converts the
layout, drops the pretraining decoder and maps a K710 head onto K400 / K600 / K700 rows with
the official index lists). A checkpoint that already fits the model (resuming) is left alone,
and so is a rank file of vmae2's sharded FSDP checkpoints (``meta['fsdp_shard']``: the model's
own names, each tensor this rank's 1-D slice, loaded by the strategy).
"""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vmae2.checkpoints import load_checkpoint
from vmae2.registry import HOOKS

from ..strategies.shards import clean_name

__all__ = ['OfficialCheckpointHook']


@HOOKS.register_module()
class OfficialCheckpointHook(Hook):
    """Convert whatever ``load_from`` points at to the model's keys (see the module doc)."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'fsdp_shard' in (checkpoint.get('meta') or {}):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        sd = checkpoint.get('state_dict', checkpoint)
        if _fits(model, sd):
            return
        load_checkpoint(model, {k: v for k, v in checkpoint.items()})
        # the runner copies `state_dict` next: hand it the converted weights
        checkpoint['state_dict'] = {k: v.clone() for k, v in model.state_dict().items()}


def _fits(model, sd: dict) -> bool:
    """Whether ``sd`` holds every tensor of ``model`` under the model's own names (and shapes).

    Under FSDP the model's parameters are this rank's 1-D slices, named with wrapper prefixes,
    and its ``state_dict()`` would gather them all: the names are compared without the
    prefixes, the shapes are not (a full checkpoint being resumed has the whole tensors).
    """
    sharded = any(clean_name(n) != n for n, _ in model.named_parameters())
    own = {clean_name(n): t.shape for n, t in (*model.named_parameters(), *model.named_buffers())}
    return all(k in sd and (sharded or sd[k].shape == shape) for k, shape in own.items()
               if not k.startswith('data_preprocessor'))
