"""A classifier head of one size onto a model of another: the Kinetics-710 index lists.

Progressive training post-pretrains on Kinetics-710 and fine-tunes on K400 / K600 / K700; the
official index lists (``vmae2/label_maps/label_710to*.json``) give, for class ``i`` of the
target set, its row in the 710-way head. Any other size mismatch leaves the head out, as the
official fine-tuning script does.
"""
from typing import Dict, List

import torch
from mmengine.logging import print_log

from vmae2.label_maps import load_k710_index

__all__ = ['K710_TARGETS', 'map_head']

#: Head sizes a K710 head can be cut down to, and their label-map names.
K710_TARGETS = {400: 'k400', 600: 'k600', 700: 'k700'}


def map_head(head: Dict[str, torch.Tensor], num_classes: int,
             dropped: List[str]) -> Dict[str, torch.Tensor]:
    """Fit a head (``weight`` ``(rows, D)``, ``bias`` ``(rows,)``) to ``num_classes`` rows.

    Returns the head unchanged when it fits, its K710 rows for a K400 / K600 / K700 model, or
    ``{}`` (and its keys appended to ``dropped``) otherwise.
    """
    rows = head['weight'].shape[0]
    if rows == num_classes:
        return head
    if rows == 710 and num_classes in K710_TARGETS:
        idx = torch.as_tensor(load_k710_index(K710_TARGETS[num_classes]))
        print_log(f'Mapping the K710 head onto {K710_TARGETS[num_classes].upper()} with the '
                  'official index list', logger='current')
        return {k: v[idx] for k, v in head.items()}
    dropped += [f'head.{k}' for k in head]
    print_log(f'Head with {rows} classes does not fit {num_classes} classes: not loaded',
              logger='current')
    return {}
