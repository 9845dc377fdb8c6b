"""Collate function for repeated augmentation: a batch of B videos x N views -> B*N samples."""
from typing import Any, Sequence

from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS

from vmae2.registry import FUNCTION


@FUNCTION.register_module()
def flatten_views_collate(data_batch: Sequence[Any]) -> Any:
    """Flattens lists of views, then collates as mmengine's ``pseudo_collate``.

    Items that are lists (``num_sample > 1``) contribute each of their views; plain items pass
    through, so the function also works with ``num_sample=1``. Views of one video stay next to
    each other: item ``b`` view ``v`` lands at position ``b * N + v``.

    Args:
        data_batch: Items from the dataset, each a packed dict or a list of them.

    Returns:
        ``dict(inputs=[B*N tensors (C, T, H, W) uint8], data_samples=[B*N samples])`` for
        packed inputs.
    """
    flat = []
    for item in data_batch:
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    return pseudo_collate(flat)


# The runner resolves ``collate_fn=dict(type=NAME)`` in MMEngine's root registry without the
# default scope: register the bare name there too (``'vmae2.flatten_views_collate'`` also works).
MMENGINE_FUNCTIONS.register_module(name='flatten_views_collate', module=flatten_views_collate,
                                   force=True)
