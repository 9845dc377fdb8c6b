"""Temporal action localization on VideoMAE V2 features: an ActionFormer-style localizer,
feature datasets (THUMOS14, FineAction, the embedded SyntheticTAL), and the detection mAP.

Configs import it with ``custom_imports = dict(imports=['projects.tal.tal_vmae2'])``; every
component registers into vmae2's registries.
"""
from . import datasets, evaluation, models  # noqa: F401  (registers the components)
