"""The PySide6 desktop front end — the only package that imports Qt."""

import builtins

#: the interpreter's own ``__import__``, kept before any module here imports PySide6, which
#: puts its ``__feature__`` hook in its place (see :mod:`cxfield.gui.plain_import`)
PLAIN_IMPORT = builtins.__import__
