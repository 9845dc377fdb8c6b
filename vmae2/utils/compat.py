"""Work-arounds for the released OpenMMLab stack on current torch/numpy.

mmaction2 1.2.0 on PyPI ships ``mmaction/models/localizers/__init__.py`` importing
``.drn.drn.DRN``, but the ``drn`` folder itself is missing from the release, so a plain
``import mmaction.models`` raises ``ModuleNotFoundError``. vmae2 does not use DRN: we put a
placeholder module in ``sys.modules`` whose ``DRN`` raises a clear error if anyone builds it.
The placeholder is only installed when the real module cannot be found, so a fixed mmaction2
release is used as is.

mmaction2's multimodal (VindLU) models fail to import beside transformers 5; see
:func:`_disable_incompatible_multimodal`.
"""
import ast
import importlib.util
import os
import sys
import types

_DRN_MISSING = ('DRN is missing from the mmaction2 1.2.0 PyPI release (its `drn` folder was not '
                'packaged); install mmaction2 from source to use it.')


def _install_drn_placeholder() -> None:
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return
    # Look for the folder on disk: find_spec() would import mmaction.models first, which is the
    # very import that fails.
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return
    for root in spec.submodule_search_locations:
        if os.path.isdir(os.path.join(root, 'models', 'localizers', 'drn')):
            return

    class DRN:  # noqa: D401 - placeholder
        """Placeholder for mmaction2's DRN localizer (absent from the PyPI release)."""

        def __init__(self, *args, **kwargs):
            raise ImportError(_DRN_MISSING)

    pkg = types.ModuleType(name)
    pkg.__path__ = []  # mark as a package
    mod = types.ModuleType(name + '.drn')
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules[name] = pkg
    sys.modules[name + '.drn'] = mod


def _defines_at_top_level(path: str, name: str) -> bool:
    """Whether the module source at ``path`` binds ``name`` at its top level (a def, class,
    assignment or import, also inside a top-level ``if`` / ``try`` / ``with``), read with
    :mod:`ast` instead of importing the module."""
    with open(path, encoding='utf-8') as f:
        body = list(ast.parse(f.read(), path).body)
    while body:
        node = body.pop()
        if isinstance(node, (ast.If, ast.Try, ast.With)):  # guarded imports run at import time
            body += node.body + getattr(node, 'orelse', []) + getattr(node, 'finalbody', [])
            body += [n for h in getattr(node, 'handlers', []) for n in h.body]
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split('.')[0] for a in node.names]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        else:
            continue
        if name in names:
            return True
    return False


def _disable_incompatible_multimodal() -> None:
    """mmaction2's VindLU models import helpers that transformers 5 removed
    (``apply_chunking_to_forward`` from ``transformers.modeling_utils``); with such a
    transformers installed (vmae2's tests use it as an oracle), ``import mmaction.models`` would
    fail. Turn mmaction2's own switch off so it registers its placeholders instead.

    The helper is looked for in ``modeling_utils``' source, not by importing it: that import
    (all of transformers' model machinery) took 5-6 s of every ``import vmae2`` on a 2-core CPU
    (``import vmae2``: 12.2 -> 8.5 s, ``vmae2.datasets``: 12.4 -> 10.2 s; ``import mmdet.models``,
    and so ``vmae2.models``, still loads it through mmdet's ``vlfuse_helper``).
    """
    if 'mmaction.models' in sys.modules:
        return
    try:
        from mmaction.utils import dependency
    except Exception:  # pragma: no cover - mmaction absent
        return
    if not getattr(dependency, 'WITH_MULTIMODAL', False):
        return
    name = 'apply_chunking_to_forward'
    spec = importlib.util.find_spec('transformers')  # a top-level name: nothing is imported
    source = (os.path.join(spec.submodule_search_locations[0], 'modeling_utils.py')
              if spec is not None and spec.submodule_search_locations else None)
    if source is not None and os.path.isfile(source):
        try:
            if not _defines_at_top_level(source, name):
                dependency.WITH_MULTIMODAL = False
            return
        except (OSError, SyntaxError, UnicodeDecodeError):
            pass  # unreadable source: ask the module itself
    try:
        from transformers.modeling_utils import apply_chunking_to_forward  # noqa: F401
    except Exception:
        dependency.WITH_MULTIMODAL = False


def register_config_package() -> None:
    """Let configs inherit ours with ``_base_ = 'vmae2::path/to/config.py'``.

    MMEngine resolves ``pkg::`` only for packages in its fixed ``MODULE2PACKAGE`` table; the
    configs themselves are found at ``vmae2/.mim/configs`` (a link to the repository's
    ``configs/`` in a develop install, a copy in a wheel)."""
    from mmengine.config import config as cfg_config
    from mmengine.config import utils as cfg_utils
    cfg_utils.MODULE2PACKAGE.setdefault('vmae2', 'vmae2')
    original = cfg_config.get_installed_path
    if getattr(original, '_vmae2', False):
        return

    # An editable (PEP 660) install keeps the distribution's metadata in site-packages but the
    # code in the repository, where MMEngine's lookup by distribution location goes wrong.
    def get_installed_path(package: str) -> str:
        if package == 'vmae2':
            return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return original(package)

    get_installed_path._vmae2 = True
    cfg_config.get_installed_path = get_installed_path


def patch_mmaction() -> None:
    """Apply the mmaction2 / mmengine work-arounds (idempotent)."""
    _install_drn_placeholder()
    _disable_incompatible_multimodal()
    register_config_package()
