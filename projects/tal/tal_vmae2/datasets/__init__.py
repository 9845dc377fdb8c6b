"""Localization datasets on extracted features, their transforms, the synthetic default set."""
from .synthetic_tal import TAL_CLASSES, generate_synthetic_tal
from .tal_dataset import TALFeatureDataset, expected_num_features
from .transforms import (
                         LoadTALFeatures,
                         PackTALInputs,
                         RandomTruncateFeats,
                         ResizeFeats,
                         seconds_to_steps,
)
from .window_dataset import SampleWindow, TALWindowDataset

__all__ = ['TALFeatureDataset', 'expected_num_features', 'LoadTALFeatures',
           'RandomTruncateFeats', 'ResizeFeats', 'PackTALInputs', 'seconds_to_steps',
           'TAL_CLASSES', 'generate_synthetic_tal', 'TALWindowDataset', 'SampleWindow']
