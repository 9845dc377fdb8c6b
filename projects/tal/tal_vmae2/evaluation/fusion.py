"""Class labels for a class-agnostic localizer from a video-level classifier (FineAction and
ActivityNet recipes): each segment becomes one detection per top-k class of its video, scored
``sqrt(segment score * class score)``."""
import json
import warnings
from typing import Dict, List, Sequence, Union

import numpy as np

__all__ = ['load_video_scores', 'fuse_video_scores']


def load_video_scores(source: Union[str, dict], classes: Sequence[str]) -> Dict[str, np.ndarray]:
    """Per-video class scores ``(C,)`` in the order of ``classes``.

    Accepted layouts (a JSON path or its content): ``{video: [p_0, ..., p_{C-1}]}`` (the order of
    ``classes``), ``{video: {class_name: p}}``, either wrapped as ``{"results": ...}``, optionally
    with a ``"class"`` list giving the order of the lists (as the CUHK ActivityNet scores file).
    """
    if isinstance(source, str):
        with open(source) as f:
            source = json.load(f)
    order = list(source.get('class', classes)) if isinstance(source, dict) else list(classes)
    table = source.get('results', source)
    index = {name: i for i, name in enumerate(classes)}
    out = {}
    for vid, scores in table.items():
        if vid == 'class':
            continue
        vec = np.zeros(len(classes))
        if isinstance(scores, dict):
            items = scores.items()
        else:
            if len(scores) != len(order):
                raise ValueError(f'{vid}: {len(scores)} class scores for {len(order)} classes')
            items = zip(order, scores)
        for name, p in items:
            if name not in index:
                raise ValueError(f'{vid}: class {name!r} of the video scores is not a dataset '
                                 'class')
            vec[index[name]] = float(p)
        out[vid] = vec
    return out


def fuse_video_scores(results: Dict[str, List[dict]], video_scores: Dict[str, np.ndarray],
                      classes: Sequence[str], topk: int = 2) -> Dict[str, List[dict]]:
    """Label class-agnostic segments with their video's top-``topk`` classes.

    Args:
        results: ``{video: [{"segment": [s, e], "score": x, ...}]}``.
        video_scores: From :func:`load_video_scores`.
        classes: Class names (index order of the score vectors).
        topk: Classes per video (the published recipe: 2).

    Returns:
        ``{video: [{"segment", "label": class name, "score": sqrt(x * p)}]}``; videos without
        classifier scores are dropped with a warning naming them.
    """
    fused, missing = {}, []
    for vid, segs in results.items():
        scores = video_scores.get(vid)
        if scores is None and vid.startswith('v_'):
            scores = video_scores.get(vid[2:])
        if scores is None:
            scores = video_scores.get('v_' + vid)
        if scores is None:
            missing.append(vid)
            continue
        top = np.argsort(-scores, kind='stable')[:topk]
        fused[vid] = [dict(segment=seg['segment'], label=classes[c],
                           score=float(np.sqrt(seg['score'] * scores[c])))
                      for seg in segs for c in top]
    if missing:
        warnings.warn(f'{len(missing)} video(s) have no classifier scores; their detections are '
                      f'dropped: {missing[:10]}{" ..." if len(missing) > 10 else ""}')
    return fused
