"""The package's layers: which part may import which (docs/architecture.md), checked on the
import graph of every module, and every module importable on its own (no import cycles).

Layers, bottom up: ``version``/``registry``/``utils`` -> ``label_maps``, ``masking``,
``checkpoints`` -> ``models`` | ``datasets`` (never each other) -> ``visualization``,
``evaluation``, ``engine`` -> ``analysis``, ``apis`` -> ``setup_env`` and the package root.
"""
import ast
import os
import os.path as osp
import subprocess
import sys
from collections import defaultdict

import pytest

from tests.helpers import REPO

PKG = osp.join(REPO, 'vmae2')

#: part -> the parts its modules may import (besides themselves)
ALLOWED = {
    'version': set(),
    'registry': set(),
    'utils': set(),
    'label_maps': set(),
    'masking': {'registry'},
    'checkpoints': {'label_maps'},
    'models': {'registry', 'checkpoints', 'masking', 'label_maps'},
    'datasets': {'registry'},
    'visualization': {'registry'},
    'evaluation': {'registry'},
    'engine': {'registry', 'checkpoints', 'visualization', 'datasets', 'evaluation'},
    'analysis': {'models', 'masking'},
    'apis': {'registry', 'checkpoints'},
    'setup_env': {'datasets', 'engine', 'evaluation', 'models'},
    '__init__': {'version', 'utils', 'checkpoints'},
}
#: function-level imports of vmae2 modules that are there on purpose (not to break a cycle)
FUNCTION_LEVEL_OK = {
    # registering every part is what register_all_modules is for
    ('vmae2.setup_env', 'vmae2.datasets'), ('vmae2.setup_env', 'vmae2.engine'),
    ('vmae2.setup_env', 'vmae2.evaluation'), ('vmae2.setup_env', 'vmae2.models'),
}


def _modules():
    out = {}
    for root, _, files in os.walk(PKG):
        for f in files:
            if f.endswith('.py'):
                path = osp.join(root, f)
                rel = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
                out[rel.removesuffix('.__init__')] = path
    return out


def _part(module: str) -> str:
    parts = module.split('.')
    return '__init__' if len(parts) == 1 else parts[1]


def _imports(module: str, path: str):
    """(target vmae2 module, at module level?) for every import statement of ``path``."""
    tree = ast.parse(open(path).read())
    is_pkg = path.endswith('__init__.py')
    base = module.split('.') if is_pkg else module.split('.')[:-1]
    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                     ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, top) for a in child.names if a.name.startswith('vmae2'))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    target = '.'.join(base[:len(base) - child.level + 1] +
                                      ([child.module] if child.module else []))
                else:
                    target = child.module or ''
                if target.startswith('vmae2'):
                    found.append((target, top))
            visit(child, inner)

    found = []
    visit(tree, True)
    return found


MODULES = _modules()


def test_every_part_has_a_layer():
    assert {_part(m) for m in MODULES} <= set(ALLOWED)
    # the parser sees the imports (a check that cannot fail checks nothing)
    edges = {(m, t) for m, p in MODULES.items() for t, _ in _imports(m, p)}
    assert ('vmae2.models.selfsup.videomae', 'vmae2.masking') in edges
    assert ('vmae2.checkpoints.loader', 'vmae2.checkpoints.k710') in edges  # a relative import
    assert len(edges) > 100


def test_no_part_imports_one_it_must_not():
    bad = []
    for module, path in MODULES.items():
        src = _part(module)
        for target, _ in _imports(module, path):
            dst = _part(target)
            if dst != src and dst not in ALLOWED[src]:
                bad.append(f'{module} imports {target} ({src} -> {dst})')
    assert bad == []


def test_no_function_level_import_of_the_package():
    """Function-level imports of vmae2 modules hide cycles; only the listed ones are allowed."""
    found = [(module, target) for module, path in MODULES.items()
             for target, top in _imports(module, path) if not top]
    assert sorted(set(found) - FUNCTION_LEVEL_OK) == []


def test_module_level_graph_has_no_cycle():
    graph = defaultdict(set)
    for module, path in MODULES.items():
        for target, top in _imports(module, path):
            # `from pkg import name` may name a submodule: count the edge to the deepest module
            if top and target in MODULES and target != module:
                graph[module].add(target)
    state = {}

    def dfs(node, stack):
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1 and not module_is_package_of(nxt, node):
                raise AssertionError(' -> '.join(stack + [node, nxt]))
            if nxt not in state:
                dfs(nxt, stack + [node])
        state[node] = 2

    def module_is_package_of(pkg, module):  # a submodule importing its package's __init__ is
        return module.startswith(pkg + '.')  # fine once the package has started loading

    for node in list(graph):
        if node not in state:
            dfs(node, [])


#: Run in a fresh interpreter: pays the third-party imports once, then imports each vmae2 module
#: first in its own forked child and prints the failures.
_IMPORT_EACH = r"""
import importlib.util, multiprocessing as mp, os.path as osp, sys
pkg, modules = sys.argv[1], sys.argv[2:]
# mmaction.models needs vmae2's work-around for its missing DRN module: loaded here under
# another name, so that no vmae2 module is in sys.modules before the children start
spec = importlib.util.spec_from_file_location('_vmae2_compat', osp.join(pkg, 'utils', 'compat.py'))
compat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat)
compat._install_drn_placeholder()
compat._disable_incompatible_multimodal()
for name in ('mmaction.models', 'mmaction.datasets', 'mmaction.engine', 'mmaction.apis',
             'mmaction.evaluation', 'mmaction.visualization', 'mmdet.models', 'timm.layers',
             'decord', 'av', 'cv2', 'einops', 'scipy.stats'):
    __import__(name)
assert not [m for m in sys.modules if m == 'vmae2' or m.startswith('vmae2.')]

def child(name):
    __import__(name)

ctx = mp.get_context('fork')
for name in modules:
    proc = ctx.Process(target=child, args=(name, ))
    proc.start()
    proc.join(120)
    if proc.exitcode != 0:
        print('FAILED', name, proc.exitcode)
print('checked', len(modules))
"""


@pytest.mark.skipif(sys.platform != 'linux', reason='fork start method')
def test_every_module_imports_on_its_own():
    """Each module first in a fresh (forked) process: an import cycle would break here."""
    out = subprocess.run([sys.executable, '-c', _IMPORT_EACH, PKG, *sorted(MODULES)],
                         capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert [ln for ln in out.stdout.splitlines() if ln.startswith('FAILED')] == [], \
        out.stderr[-3000:]
    assert f'checked {len(MODULES)}' in out.stdout
