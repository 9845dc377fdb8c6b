"""Checkpoint layouts: official VideoMAE V2, HF transformers, vmae2."""
from .checkpoint_loader import LoadReport, canonical_state_dict, load_official_checkpoint
from .flops import count_flops, count_params
from .hf_convert import hf_to_official, is_hf_state_dict, official_to_hf

__all__ = ['LoadReport', 'canonical_state_dict', 'load_official_checkpoint', 'hf_to_official',
           'official_to_hf', 'is_hf_state_dict', 'count_flops', 'count_params']
