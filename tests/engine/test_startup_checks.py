"""Config errors found at start, each naming its key: checkpoint paths that point nowhere,
unknown dataset-source keys, a head whose num_classes does not fit the data."""
import glob
import os.path as osp
import runpy
import sys

import pytest
from mmengine.config import Config

from tests.helpers import REPO
from vmae2.engine.startup_checks import ConfigKeyError, check_config

K400 = osp.join(REPO, 'configs', 'finetune', 'videomaev2_vit-b-p16_ft-16x4_8xb8-90e_k400.py')
SYNTHETIC_FT = osp.join(REPO, 'configs', 'experiments',
                        'data_efficiency_finetune_vit-t-p8_1xb16-30e_synthetic-motion.py')
PRETRAIN = osp.join(REPO, 'configs', 'pretrain',
                    'videomaev2_vit-b-p16_dual-mask_8xb32-800e_k400.py')
ALL_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py')))


def _k400(tmp_path, labels=(0, 399)) -> Config:
    cfg = Config.fromfile(K400)
    ann = tmp_path / 'list.txt'
    ann.write_text(''.join(f'v{i}.mp4 {lb}\n' for i, lb in enumerate(labels)))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.ann_file = str(ann)
    cfg.load_from = None
    return cfg


def test_shipped_configs_pass_the_data_checks():
    for path in ALL_CONFIGS:
        check_config(Config.fromfile(path), checks=('sources', 'classes'))


def test_missing_checkpoints_name_their_keys(tmp_path):
    cfg = Config.fromfile(K400)  # load_from: a pretraining run that has not been made
    with pytest.raises(ConfigKeyError, match="load_from: checkpoint file not found: 'work_dirs/"):
        check_config(cfg)
    cfg.load_from = None
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(tmp_path / 'no.pth'))
    with pytest.raises(ConfigKeyError, match=r'model\.backbone\.init_cfg\.checkpoint: checkpoint'):
        check_config(cfg)
    check_config(cfg, checks=('paths', ))  # a test run does not read init_cfg
    cfg.model.backbone.init_cfg.checkpoint = 'https://example.com/weights.pth'
    check_config(cfg)  # URLs are left to their loaders


def test_unknown_source_key_is_named():
    cfg = Config.fromfile(PRETRAIN)
    cfg.train_dataloader.dataset.sources[0]['frame_intreval'] = 2
    with pytest.raises(ConfigKeyError,
                       match=r"train_dataloader\.dataset\.sources\[0\]\.frame_intreval: unknown"):
        check_config(cfg, checks=('sources', ))


def test_num_classes_against_labels_label_maps_and_generators(tmp_path):
    cfg = _k400(tmp_path, labels=(0, 5, 399))
    check_config(cfg)  # 400 classes, labels up to 399
    cfg.model.cls_head.num_classes = 174
    with pytest.raises(ConfigKeyError) as info:
        check_config(cfg)
    msg = str(info.value)
    assert "model.cls_head.num_classes: 174 classes, but train_dataloader.dataset.ann_file" in msg
    assert "has label 399 (line 3: 'v2.mp4 399')" in msg
    assert msg.count('has label 399') == 3  # train, val and test lists, one error each
    # a label map with another number of classes than the head
    cfg = _k400(tmp_path)
    label_map = tmp_path / 'label_map.txt'
    label_map.write_text('\n'.join(f'class {i}' for i in range(101)) + '\n')
    cfg.val_dataloader.dataset.metainfo = dict(classes=str(label_map))
    with pytest.raises(ConfigKeyError, match=r'400 classes, but val_dataloader\.dataset\.'
                       r'metainfo\.classes gives 101'):
        check_config(cfg)
    cfg = Config.fromfile(SYNTHETIC_FT)
    cfg.model.cls_head.num_classes = 7
    with pytest.raises(ConfigKeyError, match=r'7 classes, but train_dataloader\.dataset\.'
                       r'generator\.num_classes gives 8'):
        check_config(cfg, checks=('classes', ))


def test_train_tool_fails_before_building_anything(tmp_path, monkeypatch):
    cfg = _k400(tmp_path)
    cfg.model.cls_head.num_classes = 10
    cfg.work_dir = str(tmp_path / 'work')
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    monkeypatch.setattr(sys, 'argv', ['tools/train.py', path])
    with pytest.raises(ConfigKeyError, match='model.cls_head.num_classes: 10 classes'):
        runpy.run_path(osp.join(REPO, 'tools', 'train.py'), run_name='__main__')
    assert not osp.exists(tmp_path / 'work')  # no runner was made
    monkeypatch.setattr(sys, 'argv', ['tools/test.py', path, str(tmp_path / 'missing.pth')])
    with pytest.raises(ConfigKeyError, match='load_from: checkpoint file not found'):
        runpy.run_path(osp.join(REPO, 'tools', 'test.py'), run_name='__main__')
