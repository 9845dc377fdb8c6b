"""Helpers of the AVA project's tests (imported as ``ava_helpers``: pytest puts this folder on
``sys.path``; the folder has no ``__init__.py``, as the project layout asks)."""
import os.path as osp

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

from tests.helpers import DATA_ROOT, REPO

PROJECT = osp.join(REPO, 'projects', 'ava')
CONFIGS = osp.join(PROJECT, 'configs')
AVA_SAMPLE = osp.join(DATA_ROOT, 'ava')
# 2 train + 1 val videos of 8 s (two shots each): 12 train and 6 val keyframes, ~1 s to generate
SMALL_SET = dict(num_videos=(2, 1), duration=8, segment=4, fps=8, height=64, width=80, seed=0)
TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)

torch.set_num_threads(2)


def need_ava_sample() -> str:
    """The shared AVA annotation sample folder, or a skip."""
    if not osp.isfile(osp.join(AVA_SAMPLE, 'ava_sample.csv')):
        pytest.skip(f'AVA sample annotations not found in {AVA_SAMPLE} (set VMAE2_TEST_DATA)')
    return AVA_SAMPLE


def write(path, text: str) -> str:
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def samples(n, size, num_classes, label=1):
    """``n`` data samples of ``size = (H, W)`` with two persons and three proposals."""
    out = []
    for _ in range(n):
        s = ActionDataSample()
        s.set_metainfo(dict(img_shape=size))
        labels = torch.zeros(2, num_classes)
        labels[0, label] = labels[1, label + 1] = 1
        h, w = size
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[0.1 * w, 0.1 * h, 0.4 * w, 0.9 * h],
                                 [0.5 * w, 0.2 * h, 0.9 * w, 0.8 * h]]), labels=labels)
        s.proposals = InstanceData(bboxes=torch.tensor([
            [0.12 * w, 0.1 * h, 0.4 * w, 0.88 * h], [0.5 * w, 0.2 * h, 0.88 * w, 0.8 * h],
            [0.0, 0.0, 0.3 * w, 0.3 * h]]))
        out.append(s)
    return out
