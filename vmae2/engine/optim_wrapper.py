"""Mixed precision that also works on a CPU.

MMEngine's ``AmpOptimWrapper`` asserts a GPU and always brings a ``GradScaler``. On a CPU the
useful mixed precision is bfloat16 autocast (this kind of machine runs bf16 matmuls ~4x faster
than fp32), which needs no loss scaling because bf16 keeps fp32's exponent range.
``tools/train.py --amp`` picks mmengine's ``AmpOptimWrapper`` (fp16 + dynamic loss scale) on a
GPU and this wrapper on a CPU.
"""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from vmae2.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast`` (no loss scaling).

    Args:
        dtype: the autocast dtype; bfloat16 by default (fp16 without a scaler would underflow).
        **kwargs: passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        if dtype not in (torch.bfloat16, torch.float16, torch.float32):
            raise ValueError(f'AutocastOptimWrapper: unsupported dtype {dtype}')
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of OptimWrapper plus autocast on the model's device."""
        try:
            device_type = next(model.parameters()).device.type
        except StopIteration:
            device_type = 'cpu'
        enabled = self.cast_dtype != torch.float32
        with super().optim_context(model), torch.autocast(
                device_type=device_type, dtype=self.cast_dtype, enabled=enabled):
            yield
