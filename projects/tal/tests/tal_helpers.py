"""Helpers of the TAL project's tests (imported as ``tal_helpers``: pytest puts this folder on
``sys.path``; the folder has no ``__init__.py``, as the project layout asks)."""
import os
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
PROJECT = osp.join(REPO, 'projects', 'tal')
CONFIGS = osp.join(PROJECT, 'configs')
# the real sample data beside the repository (as tests/conftest.py: VMAE2_TEST_DATA wins)
DATA_ROOT = os.environ.get('VMAE2_TEST_DATA', osp.join(REPO, '..', 'shared', 'data'))
#: the real clips and their frame counts
REAL_VIDEOS = {'arm_wrestling_k400.mp4': 280, 'pool_cleaning.mp4': 300, 'eye_makeup.avi': 164}

torch.set_num_threads(2)


def need_data(*parts: str) -> str:
    """A path under the shared sample data, or a skip when it is absent."""
    path = osp.join(DATA_ROOT, *parts)
    if not osp.exists(path):
        pytest.skip(f'{path} not found (set VMAE2_TEST_DATA)')
    return path
