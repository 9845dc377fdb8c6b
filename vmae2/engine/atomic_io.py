"""Files that are either the old version or the new one, never a torn mix.

A checkpoint written in place (``open(path, 'wb')``, as MMEngine's local backend does) and
killed half way - a SIGKILL, a node lost, a full disk - leaves a truncated file under the final
name; ``last_checkpoint`` rewritten in place can be left empty. Here every write goes to a
temporary file in the same folder, is flushed and ``fsync``-ed, and is then renamed over the
final name (``os.replace``: atomic on POSIX file systems), and the folder is ``fsync``-ed so
that the rename itself survives a power cut.

:class:`AtomicLocalBackend` is MMEngine's ``LocalBackend`` with atomic ``put`` / ``put_text``,
registered as the file backend ``'vmae2_atomic_local'``; :class:`AtomicCheckpointHook` makes
``Runner.save_checkpoint`` write through it.

For the crash tests, ``VMAE2_TEST_KILL_IN_SAVE=<file name>`` (e.g. ``epoch_3.pth``) makes the
process SIGKILL itself in the middle of writing that file: half of it on disk, flushed, under
the temporary name. Nothing else reads this variable.
"""
import os
import os.path as osp
import signal
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['atomic_write_bytes', 'atomic_write_text', 'AtomicLocalBackend', 'KILL_ENV',
           'TMP_MARK', 'is_temporary']

#: Test hook: the file name whose write is killed half way.
KILL_ENV = 'VMAE2_TEST_KILL_IN_SAVE'
#: Temporary files are ``.<name>.tmp-<pid>`` next to the final file.
TMP_MARK = '.tmp-'


def is_temporary(name: str) -> bool:
    """Whether a file name is one of this module's temporary files."""
    base = osp.basename(name)
    return base.startswith('.') and TMP_MARK in base


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems do not open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str, data: Union[bytes, memoryview]) -> None:
    """Writes ``data`` to ``path`` atomically: temp file, flush, fsync, rename, fsync folder.

    Args:
        path: Final file path; its folder is created if needed.
        data: The whole content.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}{TMP_MARK}{os.getpid()}')
    try:
        with open(tmp, 'wb') as f:
            if os.environ.get(KILL_ENV) == osp.basename(path):
                view = memoryview(data)
                f.write(view[:len(view) // 2])
                f.flush()
                os.fsync(f.fileno())
                os.kill(os.getpid(), signal.SIGKILL)  # the injected crash of the tests
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def atomic_write_text(path: str, text: str, encoding: str = 'utf-8') -> None:
    """:func:`atomic_write_bytes` of ``text``."""
    atomic_write_bytes(path, text.encode(encoding))


@register_backend('vmae2_atomic_local')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose writes are atomic (see the module doc)."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(str(filepath), obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_text(str(filepath), obj, encoding)
