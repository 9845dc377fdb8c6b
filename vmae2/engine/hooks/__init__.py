from .official_checkpoint_hook import OfficialCheckpointHook
from .reconstruction_hook import ReconstructionVisHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['SafeCheckpointHook', 'ReconstructionVisHook', 'OfficialCheckpointHook']
