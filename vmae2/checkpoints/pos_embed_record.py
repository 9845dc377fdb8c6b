"""The position-table record of vmae2 checkpoints.

The table is rebuilt from ``pos_embed_type``, never stored, so a state dict cannot tell a
'3d'-trained encoder from a '1d' one and would load into the wrong kind silently (weights
trained against other positions: a worse start, no error). vmae2 checkpoints therefore record
the kind in ``meta['pos_embed_type']`` (``SafeCheckpointHook``) and every load compares it
(see :mod:`vmae2.models.layers.pos_embed` for the two kinds).
"""
import torch

__all__ = ['model_pos_embed_type', 'check_pos_embed_type']


def model_pos_embed_type(model: torch.nn.Module):
    """The ``pos_embed_type`` of the model's backbone(s): ``'1d'``, ``'3d'`` or ``None`` (no
    VideoViT, or several of different kinds)."""
    kinds = {m.pos_embed_type for m in model.modules()
             if isinstance(getattr(m, 'pos_embed_type', None), str)}
    return kinds.pop() if len(kinds) == 1 else None


def check_pos_embed_type(model: torch.nn.Module, checkpoint) -> None:
    """Raise if ``checkpoint`` (a loaded dict) records another ``pos_embed_type`` than
    ``model`` uses. Checkpoints without the record (official, HF, older) pass."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    saved = meta.get('pos_embed_type') if isinstance(meta, dict) else None
    own = model_pos_embed_type(model)
    if saved is not None and own is not None and saved != own:
        raise ValueError(
            f"the checkpoint was trained with pos_embed_type={saved!r} but this model uses "
            f"{own!r}: the weights would load against other positions. Set "
            f"pos_embed_type={saved!r} on the backbone in the config (e.g. --cfg-options "
            f"model.backbone.pos_embed_type={saved})")
