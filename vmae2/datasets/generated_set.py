"""Generated data sets (SyntheticMotion here, SyntheticAVA and SyntheticTAL in the projects):
built once in a staging folder, renamed into place, recognised afterwards by their settings.

A generator calls :func:`existing_set` first (a complete set with the same settings is reused;
one with other settings, or a folder that is no such set, is an error rather than silently
overwritten), writes everything under :func:`staging_folder`, then :func:`publish_set`, which
records the settings in ``meta.json`` and renames the folder into place. The rename is atomic, so
concurrent processes (several ranks generating at once) never see half a set: the loser of the
race drops its copy and keeps the winner's if its settings match.
"""
import json
import os
import os.path as osp
import shutil

__all__ = ['existing_set', 'staging_folder', 'publish_set']

META = 'meta.json'


def existing_set(root: str, settings: dict, kind: str) -> bool:
    """True when ``root`` holds a complete ``kind`` set generated with ``settings``.

    Args:
        root (str): The set's folder.
        settings (dict): The generator's arguments (JSON types), as :func:`publish_set` stores.
        kind (str): The set's name for messages, e.g. ``'SyntheticMotion'``.

    Raises:
        FileExistsError: ``root`` exists but holds no ``meta.json``, or one with other settings.
    """
    if not osp.exists(root):
        return False
    meta = osp.join(root, META)
    if not osp.isfile(meta):
        raise FileExistsError(f'{root} exists but holds no {kind} set (no {META}); '
                              'remove it or choose another root')
    with open(meta) as f:
        found = json.load(f)
    if found != settings:
        raise FileExistsError(f'{root} holds a {kind} set generated with {found}, not '
                              f'{settings}; remove it or choose another root')
    return True


def staging_folder(root: str) -> str:
    """An empty sibling folder of ``root``, private to this process, to generate into."""
    tmp = f'{root.rstrip("/")}.tmp-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)  # a crashed earlier run of this pid
    os.makedirs(tmp)
    return tmp


def publish_set(tmp: str, root: str, settings: dict, kind: str) -> None:
    """Writes ``settings`` to ``tmp/meta.json`` and renames ``tmp`` to ``root``.

    Raises:
        FileExistsError: another process published a set with other settings first.
        OSError: the rename failed for another reason (``tmp`` is removed either way).
    """
    with open(osp.join(tmp, META), 'w') as f:
        json.dump(settings, f, indent=2)
    os.makedirs(osp.dirname(osp.abspath(root)), exist_ok=True)
    try:
        os.rename(tmp, root)
    except OSError:  # another process finished first: keep its copy if it matches
        shutil.rmtree(tmp, ignore_errors=True)
        if not existing_set(root, settings, kind):
            raise
