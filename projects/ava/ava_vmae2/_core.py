"""The vmae2 core names this project uses that are moving in the core refactor (issue #10):
imported here only, so that the move is a change of this one file.

Checkpoints: ``vmae2.checkpoints.load_checkpoint`` / ``safe_load`` (was
``vmae2.models.utils.load_official_checkpoint`` / ``vmae2.utils.checkpoint.safe_load``); FLOPs:
``vmae2.analysis`` (was ``vmae2.models.utils``).
"""
try:
    from vmae2.checkpoints import load_checkpoint, safe_load
except ImportError:  # the core before issue #10
    from vmae2.models.utils import load_official_checkpoint as load_checkpoint
    from vmae2.utils.checkpoint import safe_load

try:
    from vmae2.analysis import count_flops, count_params
except ImportError:  # the core before issue #10
    from vmae2.models.utils import count_flops, count_params

__all__ = ['load_checkpoint', 'safe_load', 'count_flops', 'count_params']
