"""Spatio-temporal action detection on a video: an annotated video and a JSON of detections.

    python projects/ava/demo/demo_spatiotemporal.py VIDEO CONFIG [--checkpoint CKPT]
        [--det-config DET_CFG --det-checkpoint DET_CKPT | --proposals PKL]
        [--out-video OUT.mp4] [--out-json OUT.json] [--step 8] [--action-thr 0.4] [--topk 3]

Every ``--step`` frames (a keyframe) the detector's clip (``clip_len`` frames ``frame_interval``
apart around the keyframe, taken from the config's test pipeline) is classified for each person
box. Person boxes come from, in order of preference:

1. an mmdet detector (``--det-config`` + ``--det-checkpoint``, class 0 = person, scores above
   ``--det-thr``) run on the keyframe;
2. a proposals pkl in the AVA layout (``'video_id,TTTT' -> (N, 4 or 5)`` normalised boxes, the
   timestamp in whole seconds from the start of this video), ``--proposals``;
3. one whole-frame box (the default: it needs no weights).

Frames are read with vmae2's readers (torchcodec, decord, PyAV in turn). The output video shows each
keyframe's boxes with their top labels and scores until the next keyframe; the JSON lists, per
keyframe, its frame index, time, and each box (pixels of the input video) with its actions.
"""
import argparse
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', '..'))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('video')
    p.add_argument('config', help='an AVA detection config (projects/ava/configs/...)')
    p.add_argument('--checkpoint', help='detector weights; random weights without it')
    p.add_argument('--label-file', help='pbtxt label list (default: the config\'s)')
    p.add_argument('--det-config', help='mmdet person detector config')
    p.add_argument('--det-checkpoint', help='mmdet person detector weights')
    p.add_argument('--det-thr', type=float, default=0.9, help='person score threshold')
    p.add_argument('--proposals', help='AVA-style proposals pkl for this video')
    p.add_argument('--out-video', default='work_dirs/demo_ava/demo.mp4')
    p.add_argument('--out-json', default=None, help='default: --out-video with .json')
    p.add_argument('--step', type=int, default=8, help='frames between keyframes')
    p.add_argument('--action-thr', type=float, default=0.4)
    p.add_argument('--topk', type=int, default=3, help='labels drawn per box')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return p.parse_args(argv)


def _test_settings(cfg):
    """``clip_len``, ``frame_interval`` and the short side of the config's test pipeline."""
    clip_len, interval, short = 16, 4, 256
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] in ('SampleAVAClip', 'SampleAVAFrames'):
            clip_len, interval = t['clip_len'], t['frame_interval']
        if t['type'] == 'Resize':
            short = t['scale'][1] if t['scale'][0] == -1 else min(t['scale'])
    return clip_len, interval, short


class PersonBoxes:
    """Normalised person boxes of a keyframe, from a detector, a proposals file or the frame."""

    def __init__(self, args, video_id: str, fps: float):
        self.video_id, self.fps, self.thr = video_id, fps, args.det_thr
        self.detector = self.proposals = None
        if args.det_config and args.det_checkpoint:
            from mmdet.apis import init_detector
            self.detector = init_detector(args.det_config, args.det_checkpoint, device=args.device)
            self.source = f'mmdet detector {osp.basename(args.det_config)}'
        elif args.proposals:
            from projects.ava.ava_vmae2 import load_proposals
            self.proposals = load_proposals(args.proposals)
            self.source = f'proposals {args.proposals}'
        else:
            self.source = 'whole-frame boxes'

    def __call__(self, frame: np.ndarray, index: int) -> np.ndarray:
        h, w = frame.shape[:2]
        if self.detector is not None:
            from mmdet.apis import inference_detector
            pred = inference_detector(self.detector, frame[..., ::-1]).pred_instances
            keep = (pred.labels == 0) & (pred.scores >= self.thr)
            boxes = pred.bboxes[keep].cpu().numpy() / np.array([w, h, w, h])
        elif self.proposals is not None:
            key = f'{self.video_id},{int(round(index / self.fps)):04d}'
            boxes = self.proposals.get(key, np.zeros((0, 4)))[:, :4]
        else:
            boxes = np.zeros((0, 4))
        return boxes if len(boxes) else np.array([[0., 0., 1., 1.]])


def detect(model, frames, index, clip_len, interval, short, boxes):
    """``(boxes (N, 4) normalised, scores (N, C))`` for the keyframe ``index``."""
    from mmaction.structures import ActionDataSample
    from mmengine.structures import InstanceData
    n = len(frames)
    inds = np.clip(index + (np.arange(clip_len) - clip_len // 2) * interval, 0, n - 1)
    h, w = frames.shape[1:3]
    size = (round(w * short / h), short) if h <= w else (short, round(h * short / w))
    clip = np.stack([cv2.resize(frames[i], size, interpolation=cv2.INTER_LINEAR) for i in inds])
    clip_t = torch.from_numpy(clip).permute(3, 0, 1, 2).contiguous()  # (C, T, H, W) uint8
    sample = ActionDataSample()
    sample.set_metainfo(dict(img_shape=(size[1], size[0])))
    scale = np.array([size[0], size[1], size[0], size[1]], np.float32)
    sample.proposals = InstanceData(bboxes=torch.from_numpy(boxes.astype(np.float32) * scale))
    with torch.no_grad():
        pred = model.test_step(dict(inputs=[clip_t], data_samples=[sample]))[0].pred_instances
    return pred.bboxes.cpu().numpy(), pred.scores.cpu().numpy()


def draw(frame, dets, names):
    out = frame.copy()
    h, w = out.shape[:2]
    for det in dets:
        x1, y1, x2, y2 = (int(v) for v in det['box'])
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), 2)
        for k, act in enumerate(det['actions']):
            text = f'{act["name"]} {act["score"]:.2f}'
            y = min(y1 + 14 + 14 * k, h - 4)
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
            cv2.rectangle(out, (x1 + 2, y - th - 3), (x1 + 4 + tw, y + 3), (0, 0, 0), -1)
            cv2.putText(out, text, (x1 + 3, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255),
                        1, cv2.LINE_AA)
    return out


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    import projects.ava.ava_vmae2 as ava
    from vmae2.datasets.synthetic_motion import write_video
    from vmae2.datasets.video_readers import open_video
    from vmae2.registry import MODELS

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    cfg.model.backbone.pop('init_cfg', None)  # the checkpoint below holds every weight
    model = MODELS.build(cfg.model).to(args.device).eval()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        print('no --checkpoint: the detector has random weights (the output shows the pipeline, '
              'not actions)')
    label_file = args.label_file or cfg.test_evaluator.label_file
    if not osp.isfile(label_file):  # fail before minutes of decoding, with the way out
        raise SystemExit(f'label list {label_file} not found: pass --label-file, or create the '
                         'dataset the config names (the synthetic set is written by its first '
                         'training run)')
    names = ava.read_label_map(label_file)
    ids = np.array(sorted(names))
    clip_len, interval, short = _test_settings(cfg)

    reader = open_video(args.video)
    frames = reader.get_frames(list(range(reader.num_frames)))  # (N, H, W, 3) RGB
    fps = reader.fps or 30.
    video_id = osp.splitext(osp.basename(args.video))[0]
    persons = PersonBoxes(args, video_id, fps)
    h, w = frames.shape[1:3]
    keyframes = list(range(args.step // 2, len(frames), args.step))
    results = []
    for index in keyframes:
        boxes, scores = detect(model, frames, index, clip_len, interval, short,
                               persons(frames[index], index))
        dets = []
        for box, score in zip(boxes, scores):
            cls = score[ids]  # column = action id; the background slot 0 is never read
            order = np.argsort(-cls)[:args.topk]
            actions = [dict(id=int(ids[i]), name=names[int(ids[i])], score=float(cls[i]))
                       for i in order if cls[i] >= args.action_thr]
            dets.append(dict(box=[float(v) for v in box * np.array([w, h, w, h])],
                             actions=actions))
        results.append(dict(frame=index, time=index / fps, detections=dets))

    annotated = np.empty_like(frames)
    for i in range(len(frames)):
        nearest = min(range(len(keyframes)), key=lambda k: abs(keyframes[k] - i))
        annotated[i] = draw(frames[i], results[nearest]['detections'], names)
    os.makedirs(osp.dirname(osp.abspath(args.out_video)), exist_ok=True)
    write_video(args.out_video, annotated[:, :h // 2 * 2, :w // 2 * 2], fps=round(fps))
    out_json = args.out_json or osp.splitext(args.out_video)[0] + '.json'
    with open(out_json, 'w') as f:
        json.dump(dict(video=args.video, config=args.config, checkpoint=args.checkpoint,
                       person_boxes=persons.source, fps=fps, keyframes=results), f, indent=1)
    print(f'{len(keyframes)} keyframes, {sum(len(r["detections"]) for r in results)} boxes '
          f'({persons.source}); wrote {args.out_video} and {out_json}')
    return results


if __name__ == '__main__':
    main()
