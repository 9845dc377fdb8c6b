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
import importlib.util

from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
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
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import Registry


def _child(name: str, parent: Registry, locations: list) -> Registry:
    """A registry of scope ``vmae2`` under ``parent``.

    MMEngine's ``Registry.get`` imports only the *searched* registry's ``locations`` before
    falling back to the parent's entries, never the parent's own locations; so each child also
    lists its parent's (e.g. ``mmaction.visualization``), or mmaction2 components would be
    missing until something else imported them.
    """
    inherited = [loc for loc in getattr(parent, '_locations', []) if _importable(loc)]
    return Registry(name, parent=parent, scope='vmae2', locations=list(locations) + inherited)


def _importable(module: str) -> bool:
    # mmaction2 1.2.0 lists a module that does not exist ('mmaction.mmengine') for FUNCTION
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
    'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS', 'INFERENCERS',
    'FUNCTION', 'MASK_GENERATORS', 'STRATEGIES'
]

# ---- engine
RUNNERS = _child('runner', MMACTION_RUNNERS, ['vmae2.engine'])
RUNNER_CONSTRUCTORS = _child(
    'runner constructor', MMACTION_RUNNER_CONSTRUCTORS, ['vmae2.engine'])
LOOPS = _child('loop', MMACTION_LOOPS, ['vmae2.engine'])
HOOKS = _child('hook', MMACTION_HOOKS, ['vmae2.engine'])
LOG_PROCESSORS = _child('log_processor', MMACTION_LOG_PROCESSORS, ['vmae2.engine'])
# FlexibleRunner's strategies (FSDP, DeepSpeed): mmaction2 has no node of its own for them
STRATEGIES = _child('strategy', MMENGINE_STRATEGIES, ['vmae2.engine'])

# ---- data
DATASETS = _child('dataset', MMACTION_DATASETS, ['vmae2.datasets'])
DATA_SAMPLERS = _child('data sampler', MMACTION_DATA_SAMPLERS, ['vmae2.datasets'])
TRANSFORMS = _child('transform', MMACTION_TRANSFORMS, ['vmae2.datasets'])

# ---- models: backbones, necks, heads, losses, data preprocessors and algorithms share one node
MODELS = _child('model', MMACTION_MODELS, ['vmae2.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMACTION_MODEL_WRAPPERS, ['vmae2.models'])
WEIGHT_INITIALIZERS = _child('weight initializer', MMACTION_WEIGHT_INITIALIZERS, ['vmae2.models'])
TASK_UTILS = _child('task util', MMACTION_TASK_UTILS, ['vmae2.models'])

# ---- optimisation
OPTIMIZERS = _child('optimizer', MMACTION_OPTIMIZERS, ['vmae2.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMACTION_OPTIM_WRAPPERS, ['vmae2.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor', MMACTION_OPTIM_WRAPPER_CONSTRUCTORS, ['vmae2.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMACTION_PARAM_SCHEDULERS, ['vmae2.engine'])

# ---- evaluation and visualisation
METRICS = _child('metric', MMACTION_METRICS, ['vmae2.evaluation'])
EVALUATOR = _child('evaluator', MMACTION_EVALUATOR, ['vmae2.evaluation'])
VISUALIZERS = _child('visualizer', MMACTION_VISUALIZERS, ['vmae2.visualization'])
VISBACKENDS = _child('vis_backend', MMACTION_VISBACKENDS, ['vmae2.visualization'])
INFERENCERS = _child('inferencer', MMACTION_INFERENCERS, ['vmae2.apis'])
# Collate functions: the runner looks them up with ``FUNCTIONS.get(name)`` on MMEngine's root
# registry, without switching to the default scope, and the root only resolves ``scope.name`` for
# its direct children. So this one is a direct child of the root (``'vmae2.name'`` works from
# any config), and vmae2's collate functions also register under their bare name in the root
# (see ``vmae2.datasets.collate``).
FUNCTION = Registry('function', parent=MMENGINE_FUNCTIONS, scope='vmae2',
                    locations=['vmae2.datasets'])

# ---- our own: mask generators (tube, running cell, random, frame). MMEngine has no root for
# them, so this registry has no parent; its scope is still ``vmae2``.
MASK_GENERATORS = Registry(
    'mask generator', scope='vmae2', locations=['vmae2.masking'])
