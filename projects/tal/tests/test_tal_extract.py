"""tools/extract_features.py on the three real clips with a tiny ViT: window counts, resuming,
an interrupted run (SIGKILL), batch-size invariance, both checkpoint layouts, bad videos,
sharding."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from tal_helpers import REAL_VIDEOS, REPO, need_data

sys.path.insert(0, osp.join(REPO, 'tools'))
import extract_features  # noqa: E402

TOOL = osp.join(REPO, 'tools', 'extract_features.py')
# several extraction runs over the three clips (one of them a subprocess killed mid-run)
pytestmark = pytest.mark.slow
CONFIG = """
clip_len = 16
input_size = 32
model = dict(
    type='Recognizer3D',
    backbone=dict(type='VideoViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                             feedforward_channels=64, patch_size=16),
                  tubelet_size=2, use_mean_pooling=True),
    cls_head=dict(type='VideoMAEHead', num_classes=5, in_channels=32),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
"""


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Config, a fine-tuned-layout and a pretraining-layout checkpoint, a folder of the clips."""
    folder = need_data('videos')
    root = tmp_path_factory.mktemp('extract')
    videos = root / 'videos'
    videos.mkdir()
    for name in REAL_VIDEOS:
        os.symlink(osp.join(folder, name), videos / name)
    cfg = root / 'tiny_vit.py'
    cfg.write_text(CONFIG)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('vmae2')
    from vmae2.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    torch.save(dict(state_dict=model.state_dict()), root / 'finetuned.pth')
    bb = dict(Config.fromfile(str(cfg)).model.backbone, use_mean_pooling=False)
    encoder = MODELS.build(bb)
    torch.save(dict(model={f'encoder.{k}': v for k, v in encoder.state_dict().items()}),
               root / 'pretrained.pth')
    return dict(root=root, cfg=str(cfg), videos=str(videos), ckpt=str(root / 'finetuned.pth'),
                pre=str(root / 'pretrained.pth'))


def extract(setup, out, *extra, ckpt=None):
    extract_features.main([setup['cfg'], ckpt or setup['ckpt'], '--videos', setup['videos'],
                           '--out', str(out), '--stride', '4', *extra])
    return {osp.basename(p)[:-4]: p for p in sorted(glob.glob(osp.join(out, '*.npy')))}


@pytest.fixture(scope='module')
def batch8(setup):
    return extract(setup, setup['root'] / 'b8', '--batch-size', '8', '--num-workers', '2')


@pytest.fixture(scope='module')
def batch1(setup):
    return extract(setup, setup['root'] / 'b1', '--batch-size', '1', '--num-workers', '0')


def test_one_feature_per_window_and_manifest(setup, batch8):
    manifest = json.loads((setup['root'] / 'b8' / 'manifest.json').read_text())
    assert sorted(batch8) == sorted(osp.splitext(n)[0] for n in REAL_VIDEOS)
    for name, frames in REAL_VIDEOS.items():
        vid = osp.splitext(name)[0]
        feats = np.load(batch8[vid])
        assert feats.dtype == np.float32 and feats.shape == ((frames - 16) // 4 + 1, 32)
        assert np.isfinite(feats).all() and feats.std() > 0
        entry = manifest['videos'][vid]
        assert entry['frames'] == frames and entry['num_features'] == len(feats)
        assert entry['padded_frames'] == 0
    assert manifest['window'] == 16 and manifest['stride'] == 4
    assert manifest['offset_frames'] == 8.0 and manifest['pooling'] == 'fc_norm'
    assert manifest['preprocessing'] == 'mean_std' and manifest['feature_dim'] == 32
    assert manifest['videos']['pool_cleaning']['fps'] == pytest.approx(30.0)


def test_second_run_skips_everything(setup, batch8, capsys):
    before = {v: os.stat(p).st_mtime_ns for v, p in batch8.items()}
    extract(setup, setup['root'] / 'b8', '--batch-size', '8')
    assert '3 of 3 videos already done; extracting 0' in capsys.readouterr().out
    assert {v: os.stat(p).st_mtime_ns for v, p in batch8.items()} == before


def test_batch_size_does_not_change_features(batch8, batch1):
    for vid in batch8:
        np.testing.assert_allclose(np.load(batch1[vid]), np.load(batch8[vid]), atol=1e-5)


def test_killed_run_resumes_to_identical_files(setup, batch1):
    out = setup['root'] / 'killed'
    cmd = [sys.executable, TOOL, setup['cfg'], setup['ckpt'], '--videos', setup['videos'],
           '--out', str(out), '--stride', '4', '--batch-size', '1', '--num-workers', '0']
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    while not glob.glob(str(out / '*.npy')) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-run: after the first video, before the last
    proc.wait()
    done = glob.glob(str(out / '*.npy'))
    assert 1 <= len(done) < 3, 'the kill did not land mid-run'
    for path in done:  # what is there is complete
        assert np.load(path).shape[0] > 0
    again = extract(setup, out, '--batch-size', '1', '--num-workers', '0')
    assert sorted(again) == sorted(batch1)
    for vid in batch1:
        with open(again[vid], 'rb') as a, open(batch1[vid], 'rb') as b:
            assert a.read() == b.read()
    assert not glob.glob(str(out / '.*.tmp'))  # the killed run's temporary file is gone


def test_pretraining_checkpoint_pools_normalised_tokens(setup):
    out = setup['root'] / 'pre'
    feats = extract(setup, out, '--batch-size', '8', '--num-workers', '0', ckpt=setup['pre'])
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['pooling'] == 'mean_of_normed_tokens'
    assert np.load(feats['eye_makeup']).shape == (38, 32)


def test_official_preprocessing_and_other_settings_refused(setup, batch8):
    out = setup['root'] / 'official'
    feats = extract(setup, out, '--official-preprocessing', '--num-workers', '0')
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['preprocessing'] == 'official' and manifest['std'] == [255.0] * 3
    assert not np.allclose(np.load(feats['eye_makeup']), np.load(batch8['eye_makeup']))
    with pytest.raises(SystemExit, match='other settings'):
        extract(setup, out, '--stride', '8')  # same folder, another stride


def test_bad_and_short_videos(setup, tmp_path, capsys):
    from vmae2.datasets.synthetic_motion import write_video
    videos = tmp_path / 'v'
    videos.mkdir()
    (videos / 'broken.mp4').write_bytes(b'not a video at all' * 100)
    write_video(str(videos / 'short.mp4'), np.random.randint(0, 255, (10, 32, 32, 3), np.uint8),
                keyint=16)
    out = tmp_path / 'out'
    extract_features.main([setup['cfg'], setup['ckpt'], '--videos', str(videos), '--out',
                           str(out), '--num-workers', '1'])
    text = capsys.readouterr().out
    assert '1 unreadable video(s)' in text and 'broken.mp4' in text
    assert 'broken.mp4' in (out / 'failed_videos.txt').read_text()
    manifest = json.loads((out / 'manifest.json').read_text())
    assert list(manifest['videos']) == ['short']
    assert manifest['videos']['short']['padded_frames'] == 6
    assert np.load(out / 'short.npy').shape == (1, 32)


def test_shards_split_the_videos(setup, batch8):
    out = setup['root'] / 'shards'
    a = extract(setup, out, '--shard', '0/2', '--num-workers', '0')
    assert sorted(a) == ['arm_wrestling_k400', 'pool_cleaning']  # videos 0 and 2 of 3
    b = extract(setup, out, '--shard', '1/2', '--num-workers', '0')
    assert sorted(b) == sorted(batch8)
    manifest = json.loads((out / 'manifest.json').read_text())
    assert sorted(manifest['videos']) == sorted(batch8)
