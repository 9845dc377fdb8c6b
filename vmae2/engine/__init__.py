"""Hooks, optimizer wrappers and other runner parts of vmae2."""
from .hooks import *  # noqa: F401,F403
from .optim_wrapper import AutocastOptimWrapper
from .optimizers import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403
from .strategies import *  # noqa: F401,F403

__all__ = ['AutocastOptimWrapper']
