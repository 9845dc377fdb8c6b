"""Localization datasets on extracted features, their transforms, the synthetic default set."""
from .synthetic_tal import TAL_CLASSES, generate_synthetic_tal
from .tal_dataset import TALFeatureDataset, expected_num_features
from .window_dataset import SampleWindow, TALWindowDataset
from .transforms import (LoadTALFeatures, PackTALInputs, RandomTruncateFeats, ResizeFeats,
                         seconds_to_steps)

__all__ = ['TALFeatureDataset', 'expected_num_features', 'LoadTALFeatures',
           'RandomTruncateFeats', 'ResizeFeats', 'PackTALInputs', 'seconds_to_steps',
           'TAL_CLASSES', 'generate_synthetic_tal', 'TALWindowDataset', 'SampleWindow']
