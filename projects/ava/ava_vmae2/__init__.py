"""vmae2 AVA project: spatio-temporal action detection with the VideoMAE V2 backbone.

Importing it (configs: ``custom_imports = dict(imports=['projects.ava.ava_vmae2'])``)
registers, in vmae2's registries: the backbone ``AVAVideoViT``, the detector ``AVAFastRCNN``
(mmdet's FastRCNN around mmaction2's AVA heads), the datasets ``AVAVmae2Dataset``,
``AVAKineticsVmae2Dataset``, ``SyntheticAVADataset``, ``SyntheticAVAPretrainDataset``, the
transforms ``SampleAVAClip`` and ``AVADecode``, the metric ``AVAFrameMAP`` and the generator
function ``generate_synthetic_ava``.
"""
import os.path as osp

import vmae2  # noqa: F401  (first: it patches mmaction2 1.2's missing modules)

from .annotations import (
    AVAAnnotationError,
    load_proposals,
    make_image_key,
    read_annotations,
    read_exclusions,
    read_label_map,
)
from .backbone import AVAVideoViT, interpolated_position_table
from .datasets import AVAKineticsVmae2Dataset, AVAVmae2Dataset
from .detector import AVAFastRCNN
from .frame_map import frame_map, voc_ap
from .metric import AVAFrameMAP, load_ground_truth, write_detections_csv
from .synthetic import SYNTHETIC_AVA_ACTIONS, generate_synthetic_ava
from .synthetic_datasets import SyntheticAVADataset, SyntheticAVAPretrainDataset
from .transforms import AVADecode, SampleAVAClip

#: The 60 evaluated classes of AVA v2.2, in the pbtxt form the evaluation reads.
AVA_LABEL_FILE = osp.join(osp.dirname(__file__), 'label_maps',
                          'ava_action_list_v2.2_for_activitynet_2019.pbtxt')

__all__ = [
    'AVAAnnotationError', 'load_proposals', 'make_image_key', 'read_annotations',
    'read_exclusions', 'read_label_map', 'AVAVideoViT', 'interpolated_position_table',
    'AVAKineticsVmae2Dataset', 'AVAVmae2Dataset', 'AVAFastRCNN', 'frame_map', 'voc_ap',
    'AVAFrameMAP', 'load_ground_truth', 'write_detections_csv', 'SYNTHETIC_AVA_ACTIONS',
    'generate_synthetic_ava', 'SyntheticAVADataset', 'SyntheticAVAPretrainDataset',
    'AVADecode', 'SampleAVAClip', 'AVA_LABEL_FILE'
]
