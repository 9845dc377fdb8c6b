"""Analysis: parameter and FLOP counts as the paper reports them (used by
``tools/analysis_tools``). Sits above ``vmae2.models``."""
from .flops import count_flops, count_params, skipped_embed_macs

__all__ = ['count_flops', 'count_params', 'skipped_embed_macs']
