from .checkpoint import UntrustedCheckpointError, register_safe_loader, safe_load
from .compat import patch_mmaction
from .dist import setup_distributed
from .setup_env import register_all_modules

__all__ = [
    'patch_mmaction', 'register_all_modules', 'safe_load', 'register_safe_loader',
    'UntrustedCheckpointError', 'setup_distributed'
]
