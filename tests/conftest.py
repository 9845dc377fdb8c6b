"""Shared test fixtures: where the real sample data lives, and a fixed thread count."""
import os
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Real clips and annotations (read-only), beside the repository; a user's clone may lack them.
DATA_ROOT = os.environ.get('VMAE2_TEST_DATA', osp.join(REPO, '..', 'shared', 'data'))

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope='session')
def repo_root() -> str:
    return REPO


@pytest.fixture(scope='session')
def test_data_root() -> str:
    """The real sample data folder; tests using it skip when it is absent."""
    if not osp.isdir(DATA_ROOT):
        pytest.skip(f'real sample data not found at {DATA_ROOT} (set VMAE2_TEST_DATA)')
    return DATA_ROOT
