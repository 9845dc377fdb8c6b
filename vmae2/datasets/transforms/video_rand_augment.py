"""RandAugment of the VideoMAE V2 fine-tuning recipe, the same ops on every frame of a clip.

The official code (``create_random_augment`` with ``rand-m7-n4-mstd0.5-inc1``) draws the ops,
their magnitudes and signs once per clip and applies them to each frame. timm's
``rand_augment_transform`` builds the same op set but draws per call; we replay the random
state of Python's ``random`` and NumPy's global generator before each frame, so every frame sees
the very same draws while per-frame ops (``AutoContrast``, ``Equalize``) still use that frame's
own histogram, as in the official code. mmaction2's ``TorchVisionWrapper(op='RandAugment')`` /
``PytorchVideoWrapper`` / ``ImgAug`` implement other RandAugment variants (other op set, no
Gaussian magnitude noise, no ``inc`` ops), hence this wrapper.
"""
import random
from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from vmae2.registry import TRANSFORMS

__all__ = ['VideoRandAugment']


@TRANSFORMS.register_module()
class VideoRandAugment(BaseTransform):
    """timm RandAugment applied identically to all frames of ``results['imgs']``.

    Args:
        config_str (str): timm RandAugment string. Defaults to the recipe's
            ``'rand-m7-n4-mstd0.5-inc1'`` (4 ops, magnitude 7 +- N(0, 0.5), increasing ops).
        interpolation (str): PIL resampling of the geometric ops. Defaults to ``'bicubic'``.
        fill (Sequence[int]): Fill colour of geometric ops (timm's ``img_mean``).
        translate_frac (float): Translation limit as a fraction of the shorter side (the
            official hparams: ``translate_const = 0.45 * min(H, W)``).

    Required keys: ``imgs`` (list of ``(H, W, 3)`` uint8 RGB). Modified keys: ``imgs``.
    """

    def __init__(self,
                 config_str: str = 'rand-m7-n4-mstd0.5-inc1',
                 interpolation: str = 'bicubic',
                 fill: Sequence[int] = (124, 116, 104),
                 translate_frac: float = 0.45) -> None:
        self.config_str = config_str
        self.interpolation = interpolation
        self.fill = tuple(int(c) for c in fill)
        self.translate_frac = translate_frac
        self._cache: Dict[int, object] = {}  # the timm op list per shorter side

    def _augmenter(self, short_side: int):
        if short_side not in self._cache:
            from timm.data.auto_augment import rand_augment_transform
            from timm.data.transforms import str_to_pil_interp
            hparams = dict(translate_const=int(short_side * self.translate_frac),
                           img_mean=self.fill,
                           interpolation=str_to_pil_interp(self.interpolation))
            self._cache[short_side] = rand_augment_transform(self.config_str, hparams)
        return self._cache[short_side]

    def transform(self, results: Dict) -> Dict:
        imgs = results['imgs']
        aug = self._augmenter(min(imgs[0].shape[:2]))
        py_state, np_state = random.getstate(), np.random.get_state()
        out = []
        for img in imgs:
            # every frame replays the same random draws: same ops, magnitudes and signs
            random.setstate(py_state)
            np.random.set_state(np_state)
            out.append(np.asarray(aug(Image.fromarray(img))))
        results['imgs'] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(config_str={self.config_str!r}, '
                f'interpolation={self.interpolation!r}, fill={self.fill})')
