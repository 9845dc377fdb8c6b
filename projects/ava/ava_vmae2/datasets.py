"""AVA v2.2 and AVA-Kinetics datasets with vmae2's readers and bad-input rules.

``AVAVmae2Dataset`` is mmaction2's ``AVADataset`` (same arguments, same sample dicts, so
mmaction2's transforms, heads and metric work on it) with:

* frames *and* videos read by vmae2's readers (``VideoInit`` -> :class:`SampleAVAClip` ->
  :class:`AVADecode`: the first of torchcodec / decord / PyAV that opens a file, the
  others fallbacks on open and on decode). A video is
  ``data_prefix.img / (video_id + video_ext)`` and must start at ``timestamp_start`` (900 s)
  and run at ``fps`` (see the README for how to cut AVA's videos);
* CSV rows checked (:func:`read_annotations`): wrong column counts and non-numbers are errors
  naming ``file:line``; boxes outside [0, 1] are errors (``on_bad_box='clip'``: clipped and
  counted); action ids outside the label list are dropped, counted and logged with examples
  (``on_unknown``), so no class is trained on that the evaluation then ignores;
* keyframes without an entry in the proposals pkl get mmaction2's whole-frame box, counted and
  logged (with examples) when the dataset is built; the pkl is read with an allow-list
  unpickler (numpy arrays only);
* unreadable samples (missing frame folder or frame, unreadable or too short video): in
  training logged, counted (``BadSampleTracker``: the run stops past ``max_bad_ratio``) and
  replaced by another sample; in evaluation listed, and given a black clip marked
  ``unreadable``, which :class:`AVAFrameMAP` scores as misses (its ground truth stays, its
  detections are dropped) and counts.

``AVAKineticsVmae2Dataset`` does the same for AVA-Kinetics (frames only, as mmaction2's).
"""
import copy
import logging
import os
import os.path as osp
from collections import defaultdict
from typing import List, Sequence, Tuple

import numpy as np
from mmaction.datasets import AVADataset, AVAKineticsDataset
from mmaction.datasets.base import BaseActionDataset
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from vmae2.datasets.bad_samples import BadSampleTracker
from vmae2.datasets.pretrain_dataset import build_pipeline
from vmae2.datasets.video_readers import BadVideoError
from vmae2.registry import DATASETS

from .annotations import (
    AVAAnnotationError,
    load_proposals,
    make_image_key,
    read_annotations,
    read_exclusions,
    read_label_map,
)
from .transforms import AVADecode, SampleAVAClip, scale_boxes

__all__ = ['AVAVmae2Dataset', 'AVAKineticsVmae2Dataset']


class _RobustAVA:
    """The behaviour both datasets share (see the module doc); mixed in before mmaction2's."""

    # ------------------------------------------------------------------ construction
    # The arguments of mmaction2's AVADataset / AVAKineticsDataset, set without their __init__:
    # that one re-reads the proposals with a plain pickle.load (code execution from a data file)
    # after the dataset is built.
    def _init(self, ann_file, pipeline, exclude_file=None, label_file=None,
              filename_tmpl='img_{:05}.jpg', start_index=1, proposal_file=None,
              person_det_score_thr=0.9, num_classes=81, custom_classes=None,
              data_prefix=dict(img=''), modality='RGB', test_mode=False, num_max_proposals=1000,
              timestamp_start=900, timestamp_end=1800, use_frames=True, fps=30, multilabel=True,
              on_unknown='warn', on_bad_box='error', video_ext='.mp4', max_bad_ratio=0.1,
              min_tried=50, placeholder_shape=(256, 340), **kwargs):
        if not 0 <= person_det_score_thr <= 1:
            raise ValueError(f'person_det_score_thr must be in [0, 1], got {person_det_score_thr}')
        if not multilabel:
            raise NotImplementedError('AVA labels are multi-label; multilabel=False is not '
                                      'supported')
        self._FPS = fps
        self.custom_classes = custom_classes
        self.exclude_file = exclude_file
        self.label_file = label_file
        self.proposal_file = proposal_file
        self.proposals = None
        self.person_det_score_thr = person_det_score_thr
        self.timestamp_start = timestamp_start
        self.timestamp_end = timestamp_end
        self.num_max_proposals = num_max_proposals
        self.filename_tmpl = filename_tmpl
        self.use_frames = use_frames
        self.multilabel = multilabel
        self.on_unknown = on_unknown
        self.on_bad_box = on_bad_box
        self.video_ext = video_ext
        self.tracker = BadSampleTracker(max_bad_ratio, min_tried)
        self.placeholder_shape = tuple(placeholder_shape)
        self.unreadable: List[Tuple[str, str]] = []  # (img_key, error) seen in test mode
        self.annotation_report = None
        self.missing_proposals: List[str] = []
        BaseActionDataset.__init__(
            self, ann_file, pipeline=build_pipeline(pipeline).transforms, data_prefix=data_prefix,
            test_mode=test_mode, num_classes=num_classes, start_index=start_index,
            modality=modality, **kwargs)

    # ------------------------------------------------------------------ annotations
    def _read_rows(self):
        if self.custom_classes is not None:
            raise NotImplementedError('custom_classes: give a label_file with those classes')
        class_ids = set(read_label_map(self.label_file)) if self.label_file else None
        rows, self.annotation_report = read_annotations(
            self.ann_file, class_ids, on_unknown=self.on_unknown, on_bad_box=self.on_bad_box)
        for r in rows:
            if not 0 < r.action_id < self.num_classes:
                raise AVAAnnotationError(
                    f'{self.ann_file}:{r.line}: action id {r.action_id} does not fit '
                    f'num_classes={self.num_classes} (ids 1 .. {self.num_classes - 1}; 0 is '
                    'the background slot)')
        return rows

    def _group(self, rows) -> dict:
        """``{img_key: ann}``: rows of one box merged into one multi-hot label (as
        ``AVADataset.parse_img_record``)."""
        boxes = defaultdict(dict)  # img_key -> {box: [labels, person_id]}
        for r in rows:
            entry = boxes[r.img_key].setdefault(r.box, [[], r.person_id])
            entry[0].append(r.action_id)
        anns = {}
        for key, by_box in boxes.items():
            labels = np.zeros((len(by_box), self.num_classes), np.float32)
            for i, (ids, _) in enumerate(by_box.values()):
                labels[i, ids] = 1.
            anns[key] = dict(gt_bboxes=np.array(list(by_box), np.float32).reshape(-1, 4),
                             gt_labels=labels,
                             entity_ids=np.array([pid for _, pid in by_box.values()]))
        return anns

    def filter_data(self) -> List[dict]:
        """Drops the keyframes of the excluded-timestamps file."""
        excluded = read_exclusions(self.exclude_file)
        kept = [d for d in self.data_list
                if make_image_key(d['video_id'], d['timestamp']) not in excluded]
        print_log(f'{self.ann_file}: {len(kept)} of {len(self.data_list)} keyframes kept, '
                  f'{len(self.data_list) - len(kept)} excluded', logger='current')
        self._check_proposals(kept)
        return kept

    def _load_proposals(self):
        self.proposals = load_proposals(self.proposal_file) if self.proposal_file else None

    def _proposal_key(self, info: dict) -> str:
        return info['img_key']

    def _check_proposals(self, data_list: Sequence[dict]) -> None:
        if not self.proposal_file:
            return
        if getattr(self, 'proposals', None) is None:
            self._load_proposals()
        self.missing_proposals = [d['img_key'] for d in data_list
                                  if len(self.proposals.get(self._proposal_key(d), ())) == 0]
        if self.missing_proposals:
            print_log(f'{self.proposal_file}: no proposals (no entry, or an empty one) for '
                      f'{len(self.missing_proposals)} of {len(data_list)} keyframes; they get one '
                      f"whole-frame box (mmaction2's rule), e.g. {self.missing_proposals[:5]}",
                      logger='current', level=logging.WARNING)

    # ------------------------------------------------------------------ samples
    def get_data_info(self, idx: int) -> dict:
        info = BaseDataset.get_data_info(self, idx)
        info['modality'] = self.modality
        info['start_index'] = self.start_index
        info['filename_tmpl'] = self.filename_tmpl
        info.setdefault('timestamp_start', self.timestamp_start)
        info.setdefault('timestamp_end', self.timestamp_end)
        info['unreadable'] = ''
        if self.proposals is not None:
            proposals = self.proposals.get(self._proposal_key(info))
            if proposals is None or len(proposals) == 0:
                info['proposals'], info['scores'] = np.array([[0, 0, 1, 1]], np.float32), \
                    np.array([1.], np.float32)
            elif proposals.shape[1] == 5:  # mmaction2's rule: scores >= min(thr, best score)
                thr = min(self.person_det_score_thr, proposals[:, 4].max(initial=0))
                proposals = proposals[proposals[:, 4] >= thr][:self.num_max_proposals]
                info['proposals'], info['scores'] = proposals[:, :4], proposals[:, 4]
            else:
                info['proposals'] = proposals[:self.num_max_proposals]
        ann = info.pop('ann')
        info.update(ann)
        return info

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        try:
            data = self.pipeline(copy.copy(info))
        except BadVideoError as e:
            path = info.get('filename', info.get('frame_dir'))
            if not self.test_mode:
                self.tracker.bad(path, e)  # raises past max_bad_ratio
                return None  # BaseDataset.__getitem__ tries another sample
            self.unreadable.append((info['img_key'], str(e)))
            print_log(f'unreadable {info["img_key"]}: {e}; it is scored as a miss '
                      f'[{len(self.unreadable)} unreadable keyframes so far in this process]',
                      logger='current', level=logging.WARNING)
            return self._placeholder(info, str(e))
        self.tracker.good()
        return data

    def _placeholder(self, info: dict, reason: str):
        """A black clip of ``placeholder_shape`` through the transforms after decoding."""
        transforms = self.pipeline.transforms
        decode = next((i for i, t in enumerate(transforms) if isinstance(t, AVADecode)), None)
        sampler = next((t for t in transforms if isinstance(t, SampleAVAClip)), None)
        if decode is None or sampler is None:
            raise RuntimeError('the test pipeline needs SampleAVAClip and AVADecode to replace '
                               'unreadable clips')
        h, w = self.placeholder_shape
        results = dict(info, unreadable=reason, imgs=[np.zeros((h, w, 3), np.uint8)] *
                       sampler.clip_len, original_shape=(h, w), img_shape=(h, w),
                       frame_inds=np.zeros(sampler.clip_len, np.int64), clip_len=sampler.clip_len,
                       frame_interval=sampler.frame_interval, num_clips=1,
                       crop_quadruple=np.array([0, 0, 1, 1], np.float32))
        results = scale_boxes(results)
        for t in transforms[decode + 1:]:
            results = t(results)
        return results


@DATASETS.register_module()
class AVAVmae2Dataset(_RobustAVA, AVADataset):
    """mmaction2's ``AVADataset`` read by vmae2's readers, with the bad-input rules above.

    Args:
        ann_file, exclude_file, label_file, proposal_file, pipeline, data_prefix, fps,
            timestamp_start, timestamp_end, use_frames, filename_tmpl, start_index,
            person_det_score_thr, num_classes, ...: As ``AVADataset``. ``start_index`` numbers
            the frame files (1: AVA's ``img_00001.jpg`` is the first frame).
        on_unknown (str): ``'warn'`` (drop and count rows whose id is not in ``label_file``),
            ``'error'`` or ``'keep'``.
        on_bad_box (str): ``'error'`` or ``'clip'`` (boxes outside [0, 1]).
        video_ext (str): Extension of the videos (``use_frames=False``), or ``'auto'``: the
            file of that name in the folder, whatever its extension. Defaults to '.mp4'.
        max_bad_ratio (float), min_tried (int): Limits of unreadable training samples.
        placeholder_shape (tuple): ``(H, W)`` of the black clip of an unreadable test sample.
    """

    def __init__(self, ann_file: str, pipeline: Sequence, **kwargs) -> None:
        self._init(ann_file, pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for key, ann in self._group(self._read_rows()).items():
            video_id, timestamp = key.rsplit(',', 1)
            info = dict(video_id=video_id, timestamp=int(timestamp), img_key=key, fps=self._FPS,
                        ann=ann)
            if self.use_frames:
                path = osp.join(self.data_prefix['img'] or '', video_id)
                total = (self.timestamp_end - self.timestamp_start) * self._FPS
                info.update(frame_dir=path, total_frames=total, shot_info=(0, total))
            else:
                info.update(filename=self._video_path(video_id), shot_info=None)
            data_list.append(info)
        return data_list

    def _video_path(self, video_id: str) -> str:
        """``prefix/video_id + video_ext``; with ``video_ext='auto'`` whatever extension the
        folder holds for that id (AVA's cut videos keep their source's: mp4, mkv, webm), found
        with one listing of the folder."""
        folder = self.data_prefix['img'] or ''
        if self.video_ext != 'auto':
            return osp.join(folder, video_id + self.video_ext)
        if getattr(self, '_videos_found', None) is None:
            names = os.listdir(folder) if osp.isdir(folder) else []
            self._videos_found = {osp.splitext(n)[0]: n for n in sorted(names)}
        return osp.join(folder, self._videos_found.get(video_id, video_id + '.mp4'))


@DATASETS.register_module()
class AVAKineticsVmae2Dataset(_RobustAVA, AVAKineticsDataset):
    """mmaction2's ``AVAKineticsDataset`` (frames) with the bad-input rules above.

    Kinetics clips are named ``<youtube_id>_<start>_<end>`` (seconds); their frames start at
    ``start`` and their proposals are keyed ``<youtube_id>,<timestamp>``. Arguments as
    :class:`AVAVmae2Dataset` (frames only).
    """

    def __init__(self, ann_file: str, pipeline: Sequence, **kwargs) -> None:
        self._init(ann_file, pipeline, **kwargs)

    def _proposal_key(self, info: dict) -> str:
        video_id = info['video_id']
        if len(video_id) != 11:  # a Kinetics clip: the proposals use the YouTube id
            video_id = '_'.join(video_id.split('_')[:-2])
        return make_image_key(video_id, info['timestamp'])

    def load_data_list(self) -> List[dict]:
        data_list = []
        for key, ann in self._group(self._read_rows()).items():
            video_id, timestamp = key.rsplit(',', 1)
            start, end = self.get_timestamp(video_id)
            total = (end - start) * self._FPS
            data_list.append(dict(
                frame_dir=osp.join(self.data_prefix['img'] or '', video_id), video_id=video_id,
                timestamp=int(timestamp), timestamp_start=start, timestamp_end=end, img_key=key,
                fps=self._FPS, total_frames=total, shot_info=(0, total), ann=ann))
        return data_list
