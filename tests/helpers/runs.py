"""What a finished run left in its work dir, read back for the tests."""
import json
import os
import os.path as osp
from typing import Dict

__all__ = ['logged_losses']


def logged_losses(work_dir: str) -> Dict[int, float]:
    """``{iter: loss}`` from every run's LocalVisBackend ``scalars.json`` in ``work_dir``; later
    runs (their timestamped folders sort in time order) override the steps an earlier one also
    logged, so a resumed run's figures replace those of the run it resumed."""
    out = {}
    runs = sorted(root for root, _, files in os.walk(work_dir) if 'scalars.json' in files)
    for root in runs:
        with open(osp.join(root, 'scalars.json')) as f:
            for line in f:
                rec = json.loads(line)
                if 'loss' in rec:
                    out[rec['step']] = rec['loss']
    return out
