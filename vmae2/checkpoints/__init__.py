"""Checkpoints: safe reading, layout detection and conversion (official VideoMAE V2, HF
transformers, vmae2), the K710 head mapping, the position-table record, and
:func:`load_checkpoint` for any layout into any vmae2 model.

One module per concept: :mod:`.safe_load` (weights-only reading), :mod:`.layouts` (which file
is which), :mod:`.hf` (HF names), :mod:`.k710` (head rows), :mod:`.pos_embed_record`,
:mod:`.loader`. This package sits below ``vmae2.models``: it imports no model code.
"""
from .hf import hf_to_official, is_hf_state_dict, official_to_hf
from .k710 import K710_TARGETS, map_head
from .layouts import PRETRAIN_KEYS, canonical_state_dict, unwrap
from .loader import LoadReport, load_checkpoint
from .pos_embed_record import check_pos_embed_type, model_pos_embed_type
from .safe_load import (
                        SAFE_GLOBALS,
                        TRUST_ENV,
                        UntrustedCheckpointError,
                        register_safe_loader,
                        safe_load,
                        trust_from_env,
)

__all__ = [
    'load_checkpoint', 'LoadReport', 'safe_load', 'register_safe_loader', 'trust_from_env',
    'UntrustedCheckpointError', 'SAFE_GLOBALS', 'TRUST_ENV', 'canonical_state_dict', 'unwrap',
    'PRETRAIN_KEYS', 'hf_to_official', 'official_to_hf', 'is_hf_state_dict', 'map_head',
    'K710_TARGETS', 'check_pos_embed_type', 'model_pos_embed_type'
]
