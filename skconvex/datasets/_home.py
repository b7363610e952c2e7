"""Where the loaders look for data: :func:`get_data_home`."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["get_data_home"]

_ENV_VAR = "SKCONVEX_DATA"
_DEFAULT_HOME = "~/skconvex_data"


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory the data loaders read from.

    The directory is laid out like the project's ``shared/data``: the UCI data
    sets live in ``<data_home>/uci/<name>/`` (see :func:`load_uci`). Nothing is
    downloaded and nothing is created; the directory need not exist.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The directory to use. If None, the ``SKCONVEX_DATA`` environment variable
        is used when it is set and not empty, else ``~/skconvex_data``.

    Returns
    -------
    data_home : pathlib.Path
        The chosen directory, with a leading ``~`` expanded (it is not made
        absolute or resolved).

    Examples
    --------
    >>> import os
    >>> from pathlib import Path
    >>> from unittest import mock
    >>> from skconvex.datasets import get_data_home
    >>> get_data_home("/srv/data").as_posix()
    '/srv/data'
    >>> with mock.patch.dict(os.environ, {"SKCONVEX_DATA": "/opt/skconvex"}):
    ...     print(get_data_home().as_posix())
    /opt/skconvex
    >>> with mock.patch.dict(os.environ):
    ...     _ = os.environ.pop("SKCONVEX_DATA", None)
    ...     home = get_data_home()
    >>> home == Path.home() / "skconvex_data"
    True
    """
    if data_home is None:
        data_home = os.environ.get(_ENV_VAR) or _DEFAULT_HOME
    return Path(data_home).expanduser()
