"""``compile=`` in a config compiles the model's ``train_step`` (MMEngine's Runner does it) and
training gives the same losses as eager: a tiny VideoMAE V2, three iterations."""
import copy
import os
import uuid

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import Dataset

import vmae2.models  # noqa: F401
from vmae2.registry import DATASETS


@DATASETS.register_module(force=True)
class TinyPretrainClips(Dataset):
    """uint8 clips ``(3, 4, 32, 32)`` with a mask seed per sample, as the pretraining set."""

    def __init__(self, size: int = 4):
        g = torch.Generator().manual_seed(0)
        self.clips = torch.randint(0, 256, (size, 3, 4, 32, 32), generator=g, dtype=torch.uint8)

    def __len__(self):
        return len(self.clips)

    def __getitem__(self, i):
        sample = ActionDataSample()
        sample.set_metainfo(dict(mask_seed=1000 + i))
        return dict(inputs=self.clips[i], data_samples=sample)


def config(work_dir, **extra) -> Config:
    return Config(dict(
        default_scope='vmae2',
        work_dir=str(work_dir),
        experiment_name=f'compile_{uuid.uuid4().hex[:8]}',
        model=dict(type='VideoMAEV2',
                   backbone=dict(arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                           feedforward_channels=64, patch_size=8)),
                   decoder=dict(embed_dims=16, num_heads=2, num_layers=1),
                   encoder_mask=dict(type='TubeMaskGenerator', ratio=0.75),
                   decoder_mask=dict(type='RunningCellMaskGenerator', ratio=0.5)),
        train_dataloader=dict(batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate'),
                              dataset=dict(type='TinyPretrainClips')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3, fused=True)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=3),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        log_level='ERROR',
        **extra))


def train_losses(cfg: Config):
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
    return losses, runner.model.train_step


def _check(tmp_path, compile_cfg, rtol):
    eager, step = train_losses(config(tmp_path / 'eager'))
    assert hasattr(step, '__self__')  # a plain bound method: nothing compiled
    compiled, step = train_losses(config(tmp_path / 'compiled', compile=compile_cfg))
    assert not hasattr(step, '__self__')  # replaced by torch.compile's wrapper
    assert len(eager) == len(compiled) == 3
    assert eager[0] != eager[2]  # it trained
    torch.testing.assert_close(torch.tensor(compiled), torch.tensor(eager), rtol=rtol, atol=0)


def test_compile_switch_in_the_config_keeps_the_losses(tmp_path):
    """Dynamo + AOTAutograd (``aot_eager``: the graphs run in eager ATen) - the switch and the
    traced step, in seconds."""
    _check(tmp_path, dict(backend='aot_eager'), rtol=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get('VMAE2_TEST_INDUCTOR'),
                    reason='minutes of C++ compiling, over the CI budget: VMAE2_TEST_INDUCTOR=1')
def test_compile_true_inductor_keeps_the_losses(tmp_path):
    """``compile=True``: inductor's generated CPU code (needs a C++ compiler; ~2-4 min here)."""
    _check(tmp_path, True, rtol=1e-4)
