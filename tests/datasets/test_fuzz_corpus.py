"""The fuzz corpus (tests/datasets/fuzz_corpus.py: 13 broken files, 10 unusual encodes) through
every dataset type the configs use, with their real pipelines shrunk: no crash, and exactly the
broken files are bad - replaced in training, scored as misses and listed in val/test. Each test
runs with decord first and with torchcodec first in the backend order (``ORDERS``)."""
import copy
import os.path as osp

import av
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

from tests.datasets.fuzz_corpus import KINDS, NUM_BAD, make_corpus
from tests.helpers import REPO
from tests.helpers.recipes import _shrink_pipeline
from vmae2.datasets import SampleKey, VideoPretrainDataset, flatten_views_collate
from vmae2.datasets.video_readers import backend_status
from vmae2.registry import DATASETS, METRICS, TRANSFORMS

BAD = {k.name for k in KINDS if k.bad}
GOOD = {k.name for k in KINDS if not k.bad}
K400 = osp.join(REPO, 'configs', 'finetune', 'videomaev2_vit-b-p16_ft-16x4_8xb8-90e_k400.py')
SSV2 = osp.join(REPO, 'configs', 'finetune', 'videomaev2_vit-b-p16_ft-16x1_8xb8-25e_ssv2.py')
PRETRAIN = osp.join(REPO, 'configs', '_base_', 'datasets', 'videomae_pretrain_224.py')
ORDERS = {'decord': ('decord', 'pyav'), 'torchcodec': ('torchcodec', 'decord', 'pyav')}
# who reads the unusual kinds when each backend is first: decord fails on 48- and 16-pixel
# widths (PyAV takes over); torchcodec reads them all, the AVI too (no B-frames)
READ_BY = {'decord': {'narrow_48x320.mp4': 'pyav', 'tiny_16x16.mp4': 'pyav',
                      'yuv444.mp4': 'decord', 'odd_33x17.mkv': 'decord', 'mpeg4.avi': 'decord'},
           'torchcodec': {'narrow_48x320.mp4': 'torchcodec', 'tiny_16x16.mp4': 'torchcodec',
                          'yuv444.mp4': 'torchcodec', 'odd_33x17.mkv': 'torchcodec',
                          'mpeg4.avi': 'torchcodec'}}


@pytest.fixture(params=sorted(ORDERS))
def order(request):
    """The backend order the pipelines use (the configs' own, with this backend first)."""
    if backend_status(request.param):
        pytest.skip(f'{request.param} cannot be used here: {backend_status(request.param)}')
    return ORDERS[request.param]


def _with_order(pipeline, order):
    for step in pipeline:
        if step['type'] in ('VideoInit', 'VideoDecode'):
            step['backends'] = order
    return pipeline


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('fuzz'))
    paths = make_corpus(root)
    ann = osp.join(root, 'list.txt')
    with open(ann, 'w') as f:  # label = position in KINDS (23 classes)
        f.write(''.join(f'{k.name} {i}\n' for i, k in enumerate(KINDS)))
    init_default_scope('vmae2')
    return dict(root=root, paths=paths, ann=ann)


def _name(path: str) -> str:
    return osp.basename(path)


def _reference_frames(path: str) -> np.ndarray:
    """Every readable frame, decoded by PyAV up to the first error: the oracle."""
    out = []
    try:
        with av.open(path) as container:
            for frame in container.decode(container.streams.video[0]):
                out.append(frame.to_ndarray(format='rgb24'))
    except av.error.FFmpegError:
        pass
    return np.stack(out)


def test_corpus_is_what_it_says(corpus):
    """The broken files hold no readable frame, the others at least one (the oracle agrees)."""
    assert len(KINDS) == 23 and NUM_BAD == 13
    for kind in KINDS:
        path = corpus['paths'][kind.name]
        try:
            n = len(_reference_frames(path))
        except Exception:  # not a file, no video stream, nothing decoded
            n = 0
        assert (n == 0) == kind.bad, (kind.name, n)


@pytest.mark.parametrize('timeout', [None, 60], ids=['in-process', 'watchdog'])
def test_loading_decodes_every_readable_frame_exactly(corpus, timeout, order):
    """VideoInit + mmaction2's SampleFrames + VideoDecode: bad kinds raise BadVideoError,
    good ones give the oracle's pixels at the sampled indices (looped when short)."""
    from vmae2.datasets import BadVideoError
    steps = [TRANSFORMS.build(dict(type='VideoInit', timeout=timeout, backends=order)),
             TRANSFORMS.build(dict(type='SampleFrames', clip_len=6, frame_interval=3)),
             TRANSFORMS.build(dict(type='VideoDecode', backends=order))]
    np.random.seed(0)
    decoders = {}
    for kind in KINDS:
        results = dict(filename=corpus['paths'][kind.name], start_index=0)
        if kind.bad:
            with pytest.raises(BadVideoError):
                for t in steps:
                    results = t(results)
            continue
        for t in steps:
            results = t(results)
        ref = _reference_frames(results['filename'])
        inds = np.asarray(results['frame_inds']) % len(ref)
        got = np.stack(results['imgs'])
        assert got.shape == (6, *ref.shape[1:]), kind.name
        assert np.array_equal(got, ref[inds]), kind.name
        decoders[kind.name] = results['decoder']
    expected = READ_BY[order[0]]
    assert {name: decoders[name] for name in expected} == expected


def test_pretraining_dataset_replaces_exactly_the_bad_files(corpus, order):
    cfg = Config.fromfile(PRETRAIN).train_dataloader.dataset
    _with_order(cfg.pipeline, order)
    cfg.pipeline[1].update(clip_len=4, frame_interval=2)
    for step in cfg.view_pipeline:
        if step['type'] == 'MultiScaleCrop':
            step['input_size'] = 16
        if step['type'] == 'Resize':
            step['scale'] = (16, 16)
    official = osp.join(corpus['root'], 'pretrain.txt')
    with open(official, 'w') as f:
        f.write(''.join(f'{k.name} 0 -1\n' for k in KINDS))
    cfg.update(data_root='', sources=[dict(ann_file=official, root=corpus['root'])],
               num_sample=2, max_bad_ratio=1.0, min_tried=1000, max_retries=50)
    dataset = DATASETS.build(cfg)
    assert isinstance(dataset, VideoPretrainDataset)
    dataset.tracker.num_examples = 10_000
    views = [dataset[SampleKey(i, 0, 0)] for i in range(len(dataset))]
    assert all(_name(v['data_samples'].filename) in GOOD for pair in views for v in pair)
    assert all(v['inputs'].shape == (3, 4, 16, 16) for pair in views for v in pair)
    assert dataset.tracker.num_good == len(KINDS)
    seen_bad = {_name(e.split(' (')[0]) for e in dataset.tracker.examples}
    assert seen_bad == BAD  # every broken file, and no readable one, was reported bad


def _finetune_cfg(path: str, corpus, order) -> Config:
    cfg = Config.fromfile(path)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader]['dataset']
        ds.update(ann_file=corpus['ann'], data_prefix=dict(video=corpus['root']))
        _shrink_pipeline(ds['pipeline'])
        _with_order(ds['pipeline'], order)
    return cfg


def test_finetune_train_dataset_replaces_exactly_the_bad_files(corpus, order):
    """The K400 recipe's RepeatAugDataset (2 views of one decode): every item comes from a
    readable file, every broken one is counted, none crashes; also through a worker."""
    ds_cfg = _finetune_cfg(K400, corpus, order).train_dataloader.dataset
    ds_cfg.update(max_bad_ratio=1.0, min_tried=1000, max_retries=50)
    dataset = DATASETS.build(ds_cfg)
    assert type(dataset).__module__.startswith('vmae2')
    dataset.tracker.num_examples = 10_000
    np.random.seed(0)
    items = [dataset[i] for i in range(len(dataset))]
    assert all(len(views) == 2 for views in items)
    labels = [int(v['data_samples'].gt_label) for views in items for v in views]
    # a replaced item carries the replacement's label: a readable file's
    assert all(KINDS[lb].name in GOOD for lb in labels), labels
    assert all(v['inputs'].shape == (1, 3, 4, 16, 16) for views in items for v in views)
    assert dataset.tracker.num_good == len(KINDS)
    assert {_name(e.split(' (')[0]) for e in dataset.tracker.examples} == BAD
    # in a DataLoader worker (a daemonic process): the decode helper starts there too
    loader = DataLoader(dataset, batch_size=4, num_workers=1, shuffle=False,
                        collate_fn=lambda b: [v for views in b for v in views])
    batches = list(loader)
    assert sum(len(b) for b in batches) == 2 * len(KINDS)


@pytest.mark.parametrize('split', ['val', 'test'])
@pytest.mark.parametrize('config', [K400, SSV2], ids=['k400', 'ssv2'])
def test_finetune_eval_datasets_score_bad_files_as_misses(corpus, split, config, order):
    """Val (1 clip, centre crop) and test (multi-view) datasets of the K400 and SSv2 recipes:
    one sample per listed video, placeholders of the same shape for exactly the broken files,
    and RobustAccMetric counts them as misses and as ``num_unreadable``."""
    cfg = _finetune_cfg(config, corpus, order)
    dataset = DATASETS.build(copy.deepcopy(cfg[f'{split}_dataloader'].dataset))
    samples = [dataset[i] for i in range(len(dataset))]
    flagged = {_name(s['data_samples'].filename) for s in samples
               if s['data_samples'].get('unreadable', False)}
    assert flagged == BAD
    assert {_name(p) for p, _ in dataset.unreadable} == BAD
    views = (5 if 'k400' in config else 2) * 3 if split == 'test' else 1
    assert {tuple(s['inputs'].shape) for s in samples} == {(views, 3, 4, 16, 16)}
    # a model that is always right: every readable video counts, every unreadable one misses
    metric = METRICS.build(cfg[f'{split}_evaluator'])
    outputs = []
    for s in samples:
        ds = s['data_samples']
        ds.pred_score = torch.nn.functional.one_hot(ds.gt_label, len(KINDS))[0].float()
        outputs.append(ds.to_dict())
    metric.process(None, outputs)
    result = metric.compute_metrics(metric.results)
    assert result['num_unreadable'] == NUM_BAD
    assert result['top1'] == pytest.approx(len(GOOD) / len(KINDS))
    assert result['top5'] == pytest.approx(len(GOOD) / len(KINDS))
    assert result['mean1'] == pytest.approx(len(GOOD) / len(KINDS))  # one video per class


def test_flatten_collate_still_works_on_pretraining_views(corpus, order):
    """Pretraining batches through a worker: bad files replaced inside the worker."""
    cfg = Config.fromfile(PRETRAIN).train_dataloader.dataset
    _with_order(cfg.pipeline, order)
    cfg.pipeline[1].update(clip_len=4, frame_interval=2)
    cfg.view_pipeline = [dict(type='Resize', scale=(16, 16), keep_ratio=False),
                         dict(type='FormatShape', input_format='NCTHW', collapse=True),
                         dict(type='PackActionInputs', meta_keys=('filename', ))]
    official = osp.join(corpus['root'], 'pretrain_w.txt')
    with open(official, 'w') as f:
        f.write(''.join(f'{k.name} 0 -1\n' for k in KINDS))
    cfg.update(data_root='', sources=[dict(ann_file=official, root=corpus['root'])],
               num_sample=2, max_bad_ratio=1.0, min_tried=1000, max_retries=50, seed=0)
    dataset = DATASETS.build(cfg)
    loader = DataLoader(dataset, batch_size=8, num_workers=1, collate_fn=flatten_views_collate)
    batches = list(loader)
    files = [_name(s.filename) for b in batches for s in b['data_samples']]
    assert len(files) == 2 * len(KINDS) and set(files) <= GOOD
