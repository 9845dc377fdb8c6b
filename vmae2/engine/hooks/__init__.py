from .atomic_checkpoint_hook import AtomicCheckpointHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .official_checkpoint_hook import OfficialCheckpointHook
from .reconstruction_hook import ReconstructionVisHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .step_seed_hook import StepSeedHook

__all__ = ['SafeCheckpointHook', 'ReconstructionVisHook', 'OfficialCheckpointHook',
           'AtomicCheckpointHook', 'NonFiniteLossHook', 'StepSeedHook']
