"""Run what the build made as another user, wherever the checkout sits.

A checkout in a folder only its owner may enter (mode 0700, a home folder)
hides the build's binaries from every other user: a test that runs one of
them as nobody would fail with "Permission denied" before it tested
anything.  Such tests run a copy in a temporary folder anyone may enter.
"""

import atexit
import os
import shutil
import stat
import tempfile

_shared = None


def others_can_reach(path):
    """Whether every folder above path lets other users through."""
    path = os.path.abspath(path)
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return True
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return False
        path = parent


def shared_copy(path):
    """A copy of the executable path that any user may run, or None.

    None when no temporary folder is open to other users (a TMPDIR inside a
    private folder): the caller skips and says so.
    """
    global _shared
    if _shared is None:
        folder = tempfile.mkdtemp(prefix="sx-shared-")
        os.chmod(folder, 0o755)
        atexit.register(shutil.rmtree, folder, True)
        _shared = folder
    if not others_can_reach(os.path.join(_shared, "x")):
        return None
    dest = os.path.join(_shared, os.path.basename(path))
    if not os.path.exists(dest):
        shutil.copy2(path, dest)
        os.chmod(dest, 0o755)
    return dest
