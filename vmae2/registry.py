"""vmae2's registries: children of mmaction2's, so that a config in the ``vmae2`` scope can name
our components *and* every mmaction2 / mmengine component without a prefix, and any mmdet
component as ``mmdet.Name``.

Each registry names the modules that fill it (``locations``) so that ``Registry.get`` imports
them lazily: building a config never needs a manual ``import vmae2.models``.

The runner builds loops, log processors, visualizers... from mmengine's root registries; with
``default_scope='vmae2'`` MMEngine switches to the descendant registry of scope ``vmae2`` of
each, so every registry the runner touches gets a child here (otherwise mmaction2's entries of
that kind would be out of reach from our scope).
"""
from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
from mmaction.registry import FUNCTION as MMACTION_FUNCTION
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import INFERENCERS as MMACTION_INFERENCERS
from mmaction.registry import LOG_PROCESSORS as MMACTION_LOG_PROCESSORS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMACTION_OPTIM_WRAPPER_CONSTRUCTORS
from mmaction.registry import OPTIM_WRAPPERS as MMACTION_OPTIM_WRAPPERS
from mmaction.registry import OPTIMIZERS as MMACTION_OPTIMIZERS
from mmaction.registry import PARAM_SCHEDULERS as MMACTION_PARAM_SCHEDULERS
from mmaction.registry import RUNNER_CONSTRUCTORS as MMACTION_RUNNER_CONSTRUCTORS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TASK_UTILS as MMACTION_TASK_UTILS
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmaction.registry import WEIGHT_INITIALIZERS as MMACTION_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
    'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS', 'INFERENCERS',
    'FUNCTION', 'MASK_GENERATORS'
]

# ---- engine
RUNNERS = Registry('runner', parent=MMACTION_RUNNERS, locations=['vmae2.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMACTION_RUNNER_CONSTRUCTORS, locations=['vmae2.engine'])
LOOPS = Registry('loop', parent=MMACTION_LOOPS, locations=['vmae2.engine'])
HOOKS = Registry('hook', parent=MMACTION_HOOKS, locations=['vmae2.engine'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMACTION_LOG_PROCESSORS, locations=['vmae2.engine'])

# ---- data
DATASETS = Registry('dataset', parent=MMACTION_DATASETS, locations=['vmae2.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMACTION_DATA_SAMPLERS, locations=['vmae2.datasets'])
TRANSFORMS = Registry('transform', parent=MMACTION_TRANSFORMS, locations=['vmae2.datasets'])

# ---- models: backbones, necks, heads, losses, data preprocessors and algorithms share one node
MODELS = Registry('model', parent=MMACTION_MODELS, locations=['vmae2.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMACTION_MODEL_WRAPPERS, locations=['vmae2.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMACTION_WEIGHT_INITIALIZERS, locations=['vmae2.models'])
TASK_UTILS = Registry('task util', parent=MMACTION_TASK_UTILS, locations=['vmae2.models'])

# ---- optimisation
OPTIMIZERS = Registry('optimizer', parent=MMACTION_OPTIMIZERS, locations=['vmae2.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMACTION_OPTIM_WRAPPERS, locations=['vmae2.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMACTION_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['vmae2.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMACTION_PARAM_SCHEDULERS, locations=['vmae2.engine'])

# ---- evaluation and visualisation
METRICS = Registry('metric', parent=MMACTION_METRICS, locations=['vmae2.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMACTION_EVALUATOR, locations=['vmae2.evaluation'])
VISUALIZERS = Registry('visualizer', parent=MMACTION_VISUALIZERS, locations=['vmae2.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMACTION_VISBACKENDS, locations=['vmae2.visualization'])
INFERENCERS = Registry('inferencer', parent=MMACTION_INFERENCERS, locations=['vmae2.apis'])
FUNCTION = Registry('function', parent=MMACTION_FUNCTION, locations=['vmae2.datasets'])

# ---- our own: mask generators (tube, running cell, random, frame). MMEngine has no root for
# them, so this registry has no parent; its scope is still ``vmae2``.
MASK_GENERATORS = Registry(
    'mask generator', scope='vmae2', locations=['vmae2.models.masking'])
