"""Temporal action localization on extracted features: ActionFormer's annotation layout
(THUMOS14, FineAction, ActivityNet-style files) plus the feature manifest that
``tools/extract_features.py`` writes.

Annotations: ``{"database": {video: {"subset", "duration", "fps"?, "annotations": [{"label",
"label_id"?, "segment": [s, e]}]}}}`` (segments in seconds). Features: ``<feature_dir>/
<file_prefix><video><file_ext>``, ``(T, D)`` float32, and ``<feature_dir>/manifest.json`` with each
video's fps, frame count and feature count and the window / stride of the extraction. Feature
step g is centred on frame ``g * stride + window / 2``, i.e. at ``(g * stride + window / 2) / fps``
seconds.

Bad input is reported by video: a feature count that disagrees with the manifest, or frames
that disagree with the annotation's duration by more than one window, raise; a short (padded)
video, a segment outside the video, a video without features or without annotations (in
training) are warned about; an unknown label raises.
"""
import json
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from vmae2.datasets.pretrain_dataset import build_pipeline
from vmae2.registry import DATASETS

__all__ = ['TALFeatureDataset', 'expected_num_features']


def expected_num_features(num_frames: int, window: int, stride: int) -> int:
    """Windows of ``window`` frames every ``stride`` frames; a shorter video gives one
    (padded) window: ``max(floor((N - window) / stride) + 1, 1)``."""
    return max((num_frames - window) // stride + 1, 1)


def _warn(msg: str) -> None:
    # a Python warning: shown once per message, visible to tests and to any caller
    warnings.warn(msg, stacklevel=3)


@DATASETS.register_module()
class TALFeatureDataset(BaseDataset):
    """Videos of one or more subsets with their features and action segments.

    Args:
        ann_file: Annotation JSON (ActionFormer layout).
        feature_dir: Folder of the ``.npy`` features (and ``manifest.json``).
        pipeline: Transforms (``LoadTALFeatures``, ``RandomTruncateFeats``, ...,
            ``PackTALInputs``).
        subset: Subset name(s), case-insensitive (THUMOS14: ``'validation'`` to train,
            ``'test'`` to test; FineAction: ``'training'`` / ``'validation'``).
        class_agnostic: One class for every action (FineAction's localizer); the dataset's
            ``classes`` stay the real ones (for score fusion).
        manifest: The manifest's file name in ``feature_dir``; None for features made elsewhere
            (then ``window`` and ``feat_stride`` are required and fps comes from the JSON).
        window, feat_stride: Frames per feature and between features (manifest-less features).
        default_fps: fps of videos whose manifest entry and annotation give none.
        file_prefix, file_ext: Feature file name = prefix + video id + ext.
        drop_labels: Labels removed from the annotations in training (THUMOS14: CliffDiving,
            always annotated as Diving too).
        length_tolerance: Allowed frame-count disagreement between the manifest and the
            annotation's ``duration * fps`` (default: one window).
        skip_empty: Leave out videos without annotations (default: in training).
        test_mode: Test split (no truncation; videos without annotations kept).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``metainfo=dict(classes=...)``
            fixes the class order; otherwise classes are sorted by ``label_id``).
    """

    def __init__(self,
                 ann_file: str,
                 feature_dir: str,
                 pipeline: Sequence[Union[dict, callable]] = (),
                 subset: Optional[Union[str, Sequence[str]]] = None,
                 class_agnostic: bool = False,
                 manifest: Optional[str] = 'manifest.json',
                 window: Optional[int] = None,
                 feat_stride: Optional[int] = None,
                 default_fps: Optional[float] = None,
                 file_prefix: str = '',
                 file_ext: str = '.npy',
                 drop_labels: Sequence[str] = (),
                 length_tolerance: Optional[float] = None,
                 skip_empty: Optional[bool] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.feature_dir = feature_dir
        self.subset = None if subset is None else (
            {subset.lower()} if isinstance(subset, str) else {s.lower() for s in subset})
        self.class_agnostic = class_agnostic
        self.manifest_name = manifest
        self.window, self.feat_stride, self.default_fps = window, feat_stride, default_fps
        self.file_prefix, self.file_ext = file_prefix, file_ext
        self.drop_labels = set(drop_labels)
        self.length_tolerance = length_tolerance
        self.skip_empty = (not test_mode) if skip_empty is None else skip_empty
        # built from vmae2's registry, so that no default scope is needed
        super().__init__(ann_file=ann_file, pipeline=build_pipeline(pipeline).transforms,
                         test_mode=test_mode, **kwargs)

    # ---- annotation + manifest reading
    def _read_manifest(self, feature_dir: str) -> Dict:
        if self.manifest_name is None:
            if self.window is None or self.feat_stride is None:
                raise ValueError('without a manifest, set window and feat_stride')
            return dict(window=self.window, stride=self.feat_stride, videos={})
        path = osp.join(feature_dir, self.manifest_name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: no feature manifest (tools/extract_features.py '
                                    f'writes it; for features made elsewhere set manifest=None, '
                                    f'window and feat_stride)')
        with open(path) as f:
            manifest = json.load(f)
        for key in ('window', 'stride'):
            given = getattr(self, 'feat_stride' if key == 'stride' else 'window')
            if given is not None and given != manifest[key]:
                raise ValueError(f'{path}: features have {key} {manifest[key]}, the config '
                                 f'says {given}')
        return manifest

    def _classes(self, database: Dict) -> List[str]:
        given = (self._metainfo or {}).get('classes')
        if given:
            return list(given)
        by_id = {}
        for info in database.values():
            for ann in info.get('annotations', []):
                by_id.setdefault(ann.get('label_id', ann['label']), ann['label'])
        return [by_id[k] for k in sorted(by_id)]

    def load_data_list(self) -> List[dict]:
        with open(self.ann_file) as f:
            data = json.load(f)
        database = data['database'] if 'database' in data else data
        classes = self._classes(database)
        self._metainfo['classes'] = tuple(classes)
        index = {name: i for i, name in enumerate(classes)}
        feature_dir = self.feature_dir
        if self.data_root and not osp.isabs(feature_dir):
            feature_dir = osp.join(self.data_root, feature_dir)
        manifest = self._read_manifest(feature_dir)
        window, stride = manifest['window'], manifest['stride']
        tolerance = window if self.length_tolerance is None else self.length_tolerance
        out, missing, empty = [], [], []
        for vid, info in database.items():
            if self.subset is not None and str(info.get('subset', '')).lower() not in self.subset:
                continue
            path = osp.join(feature_dir, f'{self.file_prefix}{vid}{self.file_ext}')
            entry = manifest['videos'].get(vid)
            if not osp.isfile(path) or (self.manifest_name is not None and entry is None):
                missing.append(vid)
                continue
            num_feats = int(np.load(path, mmap_mode='r').shape[0])
            fps = self._fps(vid, info, entry)
            duration = float(info.get('duration') or num_feats * stride / fps)
            if entry is not None:
                self._check_lengths(vid, entry, num_feats, duration, fps, window, stride,
                                    tolerance)
            segments, labels = self._annotations(vid, info, duration, index)
            if self.skip_empty and len(segments) == 0:
                empty.append(vid)
                continue
            out.append(dict(video_id=vid, feat_path=path, fps=fps, duration=duration,
                            feat_stride=float(stride), feat_offset=window / 2.0,
                            num_feats=num_feats, window=window,
                            segments=np.asarray(segments, np.float32).reshape(-1, 2),
                            labels=np.asarray(labels, np.int64)))
        if missing:
            _warn(f'{len(missing)} video(s) of the annotation have no features in '
                  f'{feature_dir} and are left out: {missing[:10]}'
                  f'{" ..." if len(missing) > 10 else ""}')
        if empty:
            _warn(f'{len(empty)} video(s) have no annotations and are left out: {empty[:10]}')
        if not out:
            raise ValueError(f'{self.ann_file}: no video of subset {sorted(self.subset or [])} '
                             f'has features in {feature_dir}')
        return out

    def _fps(self, vid: str, info: dict, entry: Optional[dict]) -> float:
        json_fps = info.get('fps')
        if not json_fps and info.get('frame_num') and info.get('duration'):
            json_fps = info['frame_num'] / info['duration']  # FineAction stores frames
        if entry is not None and entry.get('fps'):
            fps = float(entry['fps'])
            if json_fps and abs(fps - float(json_fps)) > 0.01 * fps:
                _warn(f'{vid}: the annotation says {json_fps} fps, the video has {fps}: using '
                      f"the video's")
            return fps
        fps = json_fps or self.default_fps
        if not fps:
            raise ValueError(f'{vid}: no fps in the manifest or the annotation; set default_fps')
        return float(fps)

    @staticmethod
    def _check_lengths(vid, entry, num_feats, duration, fps, window, stride, tolerance):
        if num_feats != entry['num_features']:
            raise ValueError(f'{vid}: the feature file has {num_feats} steps, the manifest '
                             f'{entry["num_features"]} (a partial or foreign file?)')
        frames = entry['frames']
        if num_feats != expected_num_features(frames, window, stride):
            raise ValueError(f'{vid}: {num_feats} features for {frames} frames at window '
                             f'{window} / stride {stride} (expected '
                             f'{expected_num_features(frames, window, stride)})')
        if abs(frames - duration * fps) > tolerance:
            raise ValueError(f'{vid}: the video has {frames} frames but the annotation\'s '
                             f'duration {duration:.2f} s x {fps:g} fps = {duration * fps:.0f}: '
                             f'more than one window ({tolerance} frames) apart; the timeline '
                             f'would be shifted (wrong video or annotation?)')
        if entry.get('padded_frames'):
            _warn(f'{vid}: {frames} frames, shorter than one window of {window}: its single '
                  f'feature comes from a padded window')

    def _annotations(self, vid, info, duration, index):
        segments, labels = [], []
        for ann in info.get('annotations', []):
            label = ann['label']
            if not self.test_mode and label in self.drop_labels:
                continue
            if label not in index:
                raise ValueError(f'{vid}: unknown label {label!r} (classes: '
                                 f'{sorted(index)[:10]}{" ..." if len(index) > 10 else ""})')
            s, e = (float(x) for x in ann['segment'])
            if s < 0 or e > duration + 1e-3:
                clipped = (max(s, 0.0), min(e, duration))
                if clipped[1] - clipped[0] <= 0:
                    _warn(f'{vid}: segment [{s}, {e}] lies outside the video (0-{duration} s): '
                          'dropped')
                    continue
                _warn(f'{vid}: segment [{s}, {e}] extends outside the video (0-{duration} s): '
                      f'clipped to [{clipped[0]}, {clipped[1]}]')
                s, e = clipped
            if e <= s:
                _warn(f'{vid}: empty segment [{s}, {e}]: dropped')
                continue
            segments.append((s, e))
            labels.append(0 if self.class_agnostic else index[label])
        return segments, labels
