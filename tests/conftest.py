"""Shared test fixtures: the real sample data, a small SyntheticMotion set, a fixed thread count."""
import os
import os.path as osp

import pytest
import torch

from tests.helpers import DATA_ROOT, REAL_VIDEOS, REPO, SMALL_SYNTHETIC

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


@pytest.fixture(scope='session')
def real_videos():
    """Paths of the real test clips -> expected frame counts; skips when they are absent."""
    folder = osp.join(DATA_ROOT, 'videos')
    paths = {osp.join(folder, name): n for name, n in REAL_VIDEOS.items()}
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        pytest.skip(f'real test clips not found ({missing[0]}); set VMAE2_TEST_DATA')
    return paths


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A small SyntheticMotion set, generated once per test session."""
    from vmae2.datasets import generate_synthetic_motion
    root = str(tmp_path_factory.mktemp('synthetic') / 'synthetic_motion')
    generate_synthetic_motion(root, **SMALL_SYNTHETIC)
    return root
