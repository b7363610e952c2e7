"""Loader of the UCI data sets of the CPNA paper's Table 2: :func:`load_uci`.

The files are the original UCI distribution files, read from
``<data_home>/uci/<name>/`` (see :func:`~skconvex.datasets.get_data_home`).
Nothing is downloaded.
"""

from __future__ import annotations

import functools
import io
import os
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._files import read_capped, verify_digests
from ._home import get_data_home

__all__ = ["UCI_DATASETS", "load_uci"]

#: The names :func:`load_uci` accepts, in the order of the CPNA paper's Table 3.
UCI_DATASETS: tuple[str, ...] = ("car", "segmentation", "optdigits", "mfeat", "isolet")

_UCI_CITATION = (
    "D. Dua and C. Graff. UCI Machine Learning Repository. Irvine, CA: University of "
    "California, School of Information and Computer Science, 2019."
)

# Car Evaluation: attributes and classes in the order of car.c45-names, so that the
# one-hot columns do not depend on the order of the rows.
_CAR_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("buying", ("vhigh", "high", "med", "low")),
    ("maint", ("vhigh", "high", "med", "low")),
    ("doors", ("2", "3", "4", "5more")),
    ("persons", ("2", "4", "more")),
    ("lug_boot", ("small", "med", "big")),
    ("safety", ("low", "med", "high")),
)
_CAR_CLASSES = ("unacc", "acc", "good", "vgood")

# Image Segmentation: the attribute-name line of both files, and the classes.
_SEGMENTATION_FEATURES = (
    "REGION-CENTROID-COL",
    "REGION-CENTROID-ROW",
    "REGION-PIXEL-COUNT",
    "SHORT-LINE-DENSITY-5",
    "SHORT-LINE-DENSITY-2",
    "VEDGE-MEAN",
    "VEDGE-SD",
    "HEDGE-MEAN",
    "HEDGE-SD",
    "INTENSITY-MEAN",
    "RAWRED-MEAN",
    "RAWBLUE-MEAN",
    "RAWGREEN-MEAN",
    "EXRED-MEAN",
    "EXBLUE-MEAN",
    "EXGREEN-MEAN",
    "VALUE-MEAN",
    "SATURATION-MEAN",
    "HUE-MEAN",
)
_SEGMENTATION_CLASSES = ("BRICKFACE", "SKY", "FOLIAGE", "CEMENT", "WINDOW", "PATH", "GRASS")

# Multiple Features: the six views (in the order "all" concatenates them) and their widths.
_MFEAT_VIEWS: dict[str, int] = {"fac": 216, "fou": 76, "kar": 64, "mor": 6, "pix": 240, "zer": 47}
_MFEAT_ROWS_PER_CLASS = 200
_MFEAT_N_CLASSES = 10

_ISOLET_PARTS = ("isolet1+2+3+4", "isolet5")  # training part, test part
_ISOLET_ROWS = {"isolet1+2+3+4": 6238, "isolet5": 1559}
_ISOLET_N_FEATURES = 617

# Size and SHA-256 of each original file (uncompressed), from shared/data/README.md.
_ORIGINALS: dict[str, tuple[int, str]] = {
    "car.data": (51867, "b703a9ac69f11e64ce8c223c0a40de4d2e9d769f7fb20be5f8f2e8a619893d83"),
    "segmentation.data": (
        34842,
        "ed5b5aee8081bbe875357149f73f50d7085e22cc0897f5b52eb7b52fea969a5b",
    ),
    "segmentation.test": (
        345084,
        "2e9e966479d54c6aaec309059376dd9c89c1b46bf3a23aceeefb36d20d93a189",
    ),
    "optdigits.tra": (563639, "e1b683cc211604fe8fd8c4417e6a69f31380e0c61d4af22e93cc21e9257ffedd"),
    "optdigits.tes": (264712, "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"),
    "mfeat-fou": (1826000, "d2bed48a4d302efe77bd80d52e16a211e99efe6fee9baf1c28dcc199c43c50ad"),
    "mfeat-fac": (2162000, "83be9bc9fd50c6dd0b0532f6b6101956f1cf51c71b33f22d3f0cd2b5befb31b5"),
    "mfeat-kar": (1922000, "db832668544497d0c06a2c1d1bfa0e17ba672812b7cfa6ed19f0941e19e1d7fa"),
    "mfeat-pix": (1442000, "70a1cd033add46614464a8740ddc23c3693765985bde52ccb6b702bff23b64f1"),
    "mfeat-zer": (1318000, "d4a0e302f2f61e823b906f78818c7c0ef078c0bbc23022affd6607d60ecfe4f3"),
    "mfeat-mor": (182000, "8767b326d874f096de06d525a2df4e610f4e9dfe91e29c250d8a3054907e3b61"),
    "isolet5.data": (8110875, "d3409bb424f2bf9a68d0d07d4824b1d776b430d2e49c1207f00502a9e2f2a899"),
    # isolet1+2+3+4.data: no copy and no published digest; read unverified
}
# SHA-256 of the distributed gzip files (gzip -9 -n, so reproducible).
_GZ_SHA256 = {"isolet5.data": "04480fc5e0bbefc46fce06ccc0f90549f5009835dbf296533d1a6ce2009a4b9b"}
# The most an unverified file may hold (the largest original, isolet1+2+3+4.data, is
# about 32 MB): reading stops there, whatever a gzip file inflates to.
_UNVERIFIED_LIMIT = 1 << 28


def load_uci(
    name: str,
    data_home: str | os.PathLike[str] | None = None,
    *,
    return_X_y: bool = False,
    as_frame: bool = False,
    views: str | Sequence[str] = ("fac",),
    verify_checksum: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray] | tuple[pd.DataFrame, pd.Series]:
    """Load one of the UCI data sets of the CPNA paper's Table 2 from local files.

    The original UCI files are read from ``<data_home>/uci/<name>/``; nothing is
    downloaded. Train and test files, where the source has both, are concatenated
    (training part first). ``X`` is always float64. ``y`` holds the class labels
    as they appear in the source: strings for ``car`` and ``segmentation``, int64
    for ``optdigits``, ``mfeat`` and ``isolet``.

    ========================  ======  ============  ========  =====================
    name                      rows    features      classes   files in uci/<name>/
    ========================  ======  ============  ========  =====================
    ``"car"``                 1728    21 (one-hot)  4         car.data
    ``"segmentation"``        2310    19            7         segmentation.data,
                                                              segmentation.test
    ``"optdigits"``           5620    64            10        optdigits.tra,
                                                              optdigits.tes
    ``"mfeat"``               2000    216 (fac)     10        mfeat-<view>
    ``"isolet"``              7797    617           26        isolet1+2+3+4.data,
                                                              isolet5.data
    ========================  ======  ============  ========  =====================

    Details per data set:

    - ``car``: the six categorical attributes one-hot encoded, 21 columns named
      like ``"buying=vhigh"``, in the fixed category order of ``car.c45-names``
      (buying 4, maint 4, doors 4, persons 3, lug_boot 3, safety 3). Labels
      ``"unacc"``, ``"acc"``, ``"good"``, ``"vgood"``.
    - ``segmentation``: the header lines of both files are skipped; the class is
      the first column, e.g. ``"BRICKFACE"``. Rows of ``.data`` (210) come first.
      All 210 of them occur again in ``.test``: the 2310 rows hold 2086 distinct
      feature vectors.
    - ``optdigits``: 8x8 pixel counts 0..16, columns ``"pixel_<row>_<col>"``;
      labels 0..9. Rows of ``.tra`` (3823) come first.
    - ``mfeat``: the files have no label column; row ``i`` is digit ``i // 200``
      (labels 0..9). Each file must have 2000 rows. See ``views``.
    - ``isolet``: the parts present are read (each as ``.data`` or gzipped
      ``.data.gz``; the plain file wins if both exist). Labels are the ints 1..26,
      for the letters A..Z (the file writes them as floats ``1.`` .. ``26.``). A
      missing part is a :class:`UserWarning`; the shared data has only the test
      part ``isolet5`` (1559 rows).

    Parameters
    ----------
    name : {"car", "segmentation", "optdigits", "mfeat", "isolet"}
        The data set, one of :data:`UCI_DATASETS`.
    data_home : str or path-like, default=None
        The directory that contains ``uci/``; see
        :func:`~skconvex.datasets.get_data_home` for the default (the
        ``SKCONVEX_DATA`` environment variable, else ``~/skconvex_data``).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame (columns ``feature_names``) and
        ``target`` as a Series named ``"target"``; ``frame`` is then both in one
        DataFrame.
    views : str or sequence of str, default=("fac",)
        ``mfeat`` only: which of the six feature files ``"fac"`` (216), ``"fou"``
        (76), ``"kar"`` (64), ``"mor"`` (6), ``"pix"`` (240) and ``"zer"`` (47) to
        concatenate, in the order given; ``"all"`` is all six in that order (649
        features). The default is the 216 ``fac`` features, the setting of the
        CPNA paper's Table 2. Leave at the default for the other data sets.
    verify_checksum : bool, default=True
        Check the size and SHA-256 of each file read against the original UCI
        file (``isolet5.data.gz`` passes with the digest of the distributed
        gzip file or of its decompressed content); an edited value is refused.
        The training part of ISOLET, ``isolet1+2+3+4.data``, has no published
        digest and is read unchecked (``DESCR`` says which files were checked).
        Tiny or modified files need ``verify_checksum=False``; they are then read
        up to 256 MiB. Reading stops past the expected size either way, so a small
        gzip file that inflates to gigabytes never fills the memory.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, n_features) or DataFrame
            The float64 features.
        target : ndarray of shape (n_samples,) or Series
            The class labels as in the source: str for ``car`` and
            ``segmentation``, int64 for the others.
        frame : DataFrame of shape (n_samples, n_features + 1) or None
            ``data`` and ``target`` together; only with ``as_frame=True``.
        feature_names : list of str
            The column names of ``data``.
        target_names : ndarray of shape (n_classes,)
            The sorted distinct labels of ``target`` (the order of
            :class:`~sklearn.preprocessing.LabelEncoder`'s ``classes_``).
        DESCR : str
            Source, size, preprocessing and citation of the data set.
        filenames : tuple of str
            The files read, in the order of the rows.
        views : tuple of str
            ``mfeat`` only: the views concatenated.
        parts : tuple of str
            ``isolet`` only: the parts read, e.g. ``("isolet5",)``.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as described above.

    Raises
    ------
    ValueError
        If ``name`` or ``views`` is not valid, a file does not have the expected
        layout, is corrupt, truncated or too long, or its checksum does not match
        (every message names the file).
    FileNotFoundError
        If a file is missing; the message names it and the directory it should
        be in.

    Warns
    -----
    UserWarning
        For ``isolet``, if one of the two parts is missing.

    Examples
    --------
    A tiny stand-in for ``car.data`` in a temporary data home:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from skconvex.datasets import load_uci
    >>> tmp = tempfile.TemporaryDirectory()
    >>> car_dir = Path(tmp.name) / "uci" / "car"
    >>> car_dir.mkdir(parents=True)
    >>> _ = (car_dir / "car.data").write_text(
    ...     "vhigh,vhigh,2,2,small,low,unacc\\nlow,med,5more,more,big,high,vgood\\n"
    ... )
    >>> car = load_uci("car", data_home=tmp.name, verify_checksum=False)
    >>> car.data.shape
    (2, 21)
    >>> car.feature_names[:5]
    ['buying=vhigh', 'buying=high', 'buying=med', 'buying=low', 'maint=vhigh']
    >>> car.data[1, :8]
    array([0., 0., 0., 1., 0., 0., 1., 0.])
    >>> car.target.tolist(), car.target_names.tolist()
    (['unacc', 'vgood'], ['unacc', 'vgood'])
    >>> X, y = load_uci(
    ...     "car", data_home=tmp.name, return_X_y=True, as_frame=True, verify_checksum=False
    ... )
    >>> X.columns[-3:].tolist(), y.name
    (['safety=low', 'safety=med', 'safety=high'], 'target')

    The checksums are those of the original files, so the tiny file fails them:

    >>> load_uci("car", data_home=tmp.name)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../car.data: SHA-256 mismatch: expected b703a9ac...
    >>> tmp.cleanup()

    With the real files in ``~/skconvex_data/uci/`` (or where ``SKCONVEX_DATA``
    points):

    >>> load_uci("car").data.shape  # doctest: +SKIP
    (1728, 21)
    >>> load_uci("mfeat", views="all").data.shape  # doctest: +SKIP
    (2000, 649)
    """
    if not isinstance(name, str) or name not in UCI_DATASETS:
        raise ValueError(f"Unknown UCI data set {name!r}; valid names are {list(UCI_DATASETS)}.")
    mfeat_views = _check_views(views, name)
    directory = get_data_home(data_home).absolute() / "uci" / name

    read = functools.partial(_read_file, verify=bool(verify_checksum))
    extra: dict[str, object] = {}
    if name == "car":
        X, y_parts, feature_names, files = _load_car(directory, read)
    elif name == "segmentation":
        X, y_parts, feature_names, files = _load_segmentation(directory, read)
    elif name == "optdigits":
        X, y_parts, feature_names, files = _load_optdigits(directory, read)
    elif name == "mfeat":
        X, y_parts, feature_names, files = _load_mfeat(directory, mfeat_views, read)
        extra["views"] = mfeat_views
    else:
        X, y_parts, feature_names, files, parts = _load_isolet(directory, read)
        extra["parts"] = parts

    file_rows = [len(X)] * len(files) if name == "mfeat" else [len(part) for part in y_parts]
    y = np.concatenate(y_parts)
    descr = _describe(
        name, y, len(feature_names), files, file_rows, mfeat_views, bool(verify_checksum)
    )
    frame = None
    data: np.ndarray | pd.DataFrame = X
    target: np.ndarray | pd.Series = y
    if as_frame:
        data = pd.DataFrame(X, columns=feature_names)
        target = pd.Series(y, name="target")
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=np.unique(y),
        DESCR=descr,
        filenames=tuple(os.fspath(f) for f in files),
        **extra,
    )


# --- checks and messages ---------------------------------------------------------


def _check_views(views, name: str) -> tuple[str, ...]:
    """Validate ``views``; return the mfeat views to load (``()`` for other data sets)."""
    if isinstance(views, str):
        views = tuple(_MFEAT_VIEWS) if views == "all" else (views,)
    else:
        try:
            views = tuple(views)
        except TypeError:
            raise ValueError(
                f"views must be 'all', a view name or a sequence of them; got {views!r}."
            ) from None
    if name != "mfeat":
        if views != ("fac",):
            raise ValueError(
                f"views applies to 'mfeat' only; leave it at its default for {name!r}."
            )
        return ()
    unknown = [v for v in views if v not in _MFEAT_VIEWS]
    if unknown:
        raise ValueError(
            f"Unknown mfeat view(s) {unknown}; valid views are {list(_MFEAT_VIEWS)} or 'all'."
        )
    if not views:
        raise ValueError("views must name at least one mfeat view.")
    if len(set(views)) != len(views):
        raise ValueError(f"views has duplicates: {list(views)}.")
    return views


def _missing_error(directory: Path, missing: Sequence[str]) -> FileNotFoundError:
    name = directory.name
    return FileNotFoundError(
        f"load_uci({name!r}): missing file(s) {', '.join(missing)} in directory "
        f"{os.fspath(directory)}. Put the original UCI file(s) there (nothing is "
        "downloaded), or pass data_home= (or set the SKCONVEX_DATA environment "
        f"variable) to the directory that contains uci/{name}/."
    )


def _require(directory: Path, filenames: Sequence[str]) -> list[Path]:
    paths = [directory / f for f in filenames]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise _missing_error(directory, missing)
    return paths


def _read_file(path: Path, verify: bool) -> bytes:
    """The content of ``path`` (decompressed if ``.gz``), capped and checked if asked.

    With ``verify``, a file whose original is known is read up to the original's size
    and must have its digest; anything else is read up to ``_UNVERIFIED_LIMIT``.
    """
    known = _ORIGINALS.get(path.name.removesuffix(".gz")) if verify else None
    if known is None:
        return read_capped(path, _UNVERIFIED_LIMIT, "the limit for unverified files")
    size, digest = known
    content = read_capped(path, size, "the size of the original file")
    verify_digests(path, content, _GZ_SHA256.get(path.name.removesuffix(".gz")), digest)
    return content


def _read_table(path: Path, n_columns: int, dtype, source, **kwargs) -> pd.DataFrame:
    """``pd.read_csv`` of ``source`` (the content of ``path``) without header.

    Checks exactly ``n_columns`` columns and no missing values; errors name ``path``.
    """
    try:
        table = pd.read_csv(source, header=None, dtype=dtype, **kwargs)
    except ValueError as exc:  # includes pandas' ParserError and EmptyDataError
        raise ValueError(f"Cannot parse {path}: {exc}") from exc
    if table.shape[1] != n_columns:
        raise ValueError(f"{path}: expected {n_columns} columns, found {table.shape[1]}.")
    if table.isna().to_numpy().any():
        row = int(np.flatnonzero(table.isna().to_numpy().any(axis=1))[0])
        raise ValueError(f"{path}: data row {row + 1} has missing values (too few columns?).")
    return table


def _check_labels(path: Path, what: str, values: np.ndarray, allowed) -> None:
    unknown = sorted(set(values.tolist()) - set(allowed))
    if unknown:
        raise ValueError(
            f"{path}: unknown {what} value(s) {unknown[:10]}; expected one of {list(allowed)}."
        )


# --- the five readers --------------------------------------------------------------


def _load_car(directory: Path, read):
    (path,) = _require(directory, ["car.data"])
    table = _read_table(
        path, 7, str, io.BytesIO(read(path)),
        sep=",", skipinitialspace=True, na_filter=False, keep_default_na=False,
    )  # fmt: skip
    values = np.char.strip(table.to_numpy(dtype=str))
    empty = np.flatnonzero((values == "").any(axis=1))
    if empty.size:
        raise ValueError(
            f"{path}: data row {empty[0] + 1} has an empty or missing value; expected 7 "
            "comma-separated fields."
        )
    columns, feature_names = [], []
    for j, (attribute, categories) in enumerate(_CAR_ATTRIBUTES):
        _check_labels(path, attribute, values[:, j], categories)
        for category in categories:
            columns.append(values[:, j] == category)
            feature_names.append(f"{attribute}={category}")
    y = values[:, 6]
    _check_labels(path, "class", y, _CAR_CLASSES)
    X = np.column_stack(columns).astype(np.float64)
    return X, [y], feature_names, [path]


def _segmentation_table(path: Path, content: bytes) -> pd.DataFrame:
    """Parse one segmentation file: skip ``;`` comments, blank lines and the name line."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"Cannot parse {path}: not a text file ({exc}).") from None
    rows = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        fields = tuple(field.strip().upper() for field in line.split(","))
        if fields[0] == _SEGMENTATION_FEATURES[0]:
            if fields != _SEGMENTATION_FEATURES:
                raise ValueError(
                    f"{path}, line {lineno}: unexpected attribute names {list(fields)}; "
                    f"expected {list(_SEGMENTATION_FEATURES)}."
                )
            continue
        rows.append(line)
    if not rows:
        raise ValueError(f"{path} has no data rows.")
    n = len(_SEGMENTATION_FEATURES)
    dtype = {0: str, **{j: np.float64 for j in range(1, n + 1)}}
    return _read_table(
        path, n + 1, dtype, io.StringIO("\n".join(rows)), sep=",", skipinitialspace=True
    )


def _load_segmentation(directory: Path, read):
    paths = _require(directory, ["segmentation.data", "segmentation.test"])
    X_parts, y_parts = [], []
    for path in paths:
        table = _segmentation_table(path, read(path))
        y = np.char.strip(table[0].to_numpy(dtype=str))
        _check_labels(path, "class", y, _SEGMENTATION_CLASSES)
        X_parts.append(table.iloc[:, 1:].to_numpy(dtype=np.float64))
        y_parts.append(y)
    return np.concatenate(X_parts), y_parts, list(_SEGMENTATION_FEATURES), paths


def _load_optdigits(directory: Path, read):
    paths = _require(directory, ["optdigits.tra", "optdigits.tes"])
    X_parts, y_parts = [], []
    for path in paths:
        values = _read_table(path, 65, np.int64, io.BytesIO(read(path)), sep=",").to_numpy()
        _check_labels(path, "class", values[:, 64], range(10))
        X_parts.append(values[:, :64].astype(np.float64))
        y_parts.append(values[:, 64])
    feature_names = [f"pixel_{i}_{j}" for i in range(8) for j in range(8)]
    return np.concatenate(X_parts), y_parts, feature_names, paths


def _load_mfeat(directory: Path, views: tuple[str, ...], read):
    paths = _require(directory, [f"mfeat-{view}" for view in views])
    n_rows = _MFEAT_ROWS_PER_CLASS * _MFEAT_N_CLASSES
    X_parts, feature_names = [], []
    for view, path in zip(views, paths):
        width = _MFEAT_VIEWS[view]
        X_view = _read_table(path, width, np.float64, io.BytesIO(read(path)), sep=r"\s+")
        X_view = X_view.to_numpy()
        if X_view.shape[0] != n_rows:
            raise ValueError(
                f"{path}: expected {n_rows} rows ({_MFEAT_ROWS_PER_CLASS} per digit; the "
                f"labels come from the row order), found {X_view.shape[0]}."
            )
        X_parts.append(X_view)
        feature_names.extend(f"{view}_{j}" for j in range(width))
    y = np.repeat(np.arange(_MFEAT_N_CLASSES, dtype=np.int64), _MFEAT_ROWS_PER_CLASS)
    return np.concatenate(X_parts, axis=1), [y], feature_names, paths


def _load_isolet(directory: Path, read):
    found = {}
    for part in _ISOLET_PARTS:
        for filename in (f"{part}.data", f"{part}.data.gz"):
            if (directory / filename).is_file():
                found[part] = directory / filename
                break
    if not found:
        missing = [f"{part}.data (or {part}.data.gz)" for part in _ISOLET_PARTS]
        raise _missing_error(directory, missing)
    for part in _ISOLET_PARTS:
        if part not in found:
            role = "training" if part == _ISOLET_PARTS[0] else "test"
            warnings.warn(
                f"load_uci('isolet'): the {role} part {part}.data ({_ISOLET_ROWS[part]} rows; "
                f"or {part}.data.gz) is missing from {os.fspath(directory)}; returning only "
                f"{', '.join(found)}.",
                UserWarning,
                stacklevel=3,
            )
    X_parts, y_parts = [], []
    for path in found.values():
        source = io.BytesIO(read(path))
        values = _read_table(
            path, _ISOLET_N_FEATURES + 1, np.float64, source, sep=",", skipinitialspace=True
        ).to_numpy()
        labels = values[:, -1]
        if not np.array_equal(labels, np.round(labels)):
            raise ValueError(f"{path}: class labels must be whole numbers 1..26.")
        labels = labels.astype(np.int64)
        _check_labels(path, "class", labels, range(1, 27))
        X_parts.append(values[:, :-1])
        y_parts.append(labels)
    feature_names = [f"f{j}" for j in range(1, _ISOLET_N_FEATURES + 1)]
    return np.concatenate(X_parts), y_parts, feature_names, list(found.values()), tuple(found)


# --- DESCR ---------------------------------------------------------------------------

_DESCR_HEAD = {
    "car": (
        "Car Evaluation",
        "M. Bohanec, 1988/1997; doi:10.24432/C5JP48",
        "The six categorical attributes are one-hot encoded in the fixed category "
        "order of car.c45-names (buying 4, maint 4, doors 4, persons 3, lug_boot 3, "
        "safety 3 = 21 columns, named like 'buying=vhigh'). The target is the class "
        "name as in the file.",
        "M. Bohanec and V. Rajkovic. Knowledge acquisition and explanation for "
        "multi-attribute decision making. 8th Intl. Workshop on Expert Systems and "
        "their Applications, Avignon, 1988, pp. 59-78.",
    ),
    "segmentation": (
        "Image Segmentation",
        "C. Brodley, 1990; doi:10.24432/C5GP4N",
        "segmentation.data and segmentation.test are concatenated in that order, their "
        "header lines skipped. The class name (first column) is the target; the 19 "
        "numeric attributes are the features. Note: in the UCI files every row of "
        "segmentation.data also occurs in segmentation.test, with the same class, so the "
        "2310 rows hold only 2086 distinct feature vectors; splits of them are not "
        "independent.",
        "C. Brodley. Image Segmentation [Dataset]. UCI Machine Learning Repository, 1990.",
    ),
    "optdigits": (
        "Optical Recognition of Handwritten Digits",
        "E. Alpaydin and C. Kaynak, 1998; doi:10.24432/C50P49",
        "optdigits.tra and optdigits.tes are concatenated in that order. Features are "
        "the 8x8 block counts 0..16; the target is the digit.",
        "E. Alpaydin and C. Kaynak. Optical Recognition of Handwritten Digits [Dataset]. "
        "UCI Machine Learning Repository, 1998.",
    ),
    "mfeat": (
        "Multiple Features",
        "R. P. W. Duin, 1998; doi:10.24432/C5HC70",
        "The feature files mfeat-<view> of the views {views} (in this order) are "
        "concatenated column-wise; the CPNA paper's 216 features are the view 'fac'. "
        "The files have no label column: row i is digit i // 200.",
        "A. K. Jain, R. P. W. Duin, and J. Mao. Statistical Pattern Recognition: A "
        "Review. IEEE Trans. PAMI, 22(1):4-37, 2000.",
    ),
    "isolet": (
        "ISOLET (spoken letters)",
        "R. Cole and M. Fanty, 1991; doi:10.24432/C51G69",
        "The parts present are concatenated (training part isolet1+2+3+4, 6238 rows in "
        "the original, then test part isolet5, 1559 rows). The target is the int 1..26 "
        "for the letters A..Z (written 1. .. 26. in the files).",
        "M. Fanty and R. Cole. Spoken letter recognition. Advances in Neural "
        "Information Processing Systems 3, 1991.",
    ),
}


def _checked(files, verified: bool) -> str:
    """Which files' checksums were verified, for DESCR."""
    if not verified:
        return "checksums not verified (verify_checksum=False)"
    unknown = [Path(f).name for f in files if Path(f).name.removesuffix(".gz") not in _ORIGINALS]
    if not unknown:
        return "their size and SHA-256 matched the original files"
    return f"SHA-256 verified except for {', '.join(unknown)} (no published digest)"


def _describe(name: str, y, n_features: int, files, file_rows, views, verified: bool) -> str:
    title, source, done, citation = _DESCR_HEAD[name]
    labels, counts = np.unique(y, return_counts=True)
    class_counts = ", ".join(f"{label}: {count}" for label, count in zip(labels.tolist(), counts))
    paragraphs = [
        f"Source: UCI Machine Learning Repository, {title} ({source}).",
        f"Rows: {len(y)}. Features: {n_features}. Classes: {len(labels)} ({class_counts}).",
        "Preprocessing: " + done.format(views=", ".join(views)),
        "Files read: "
        + ", ".join(f"{Path(f).name} ({n} rows)" for f, n in zip(files, file_rows))
        + f"; {_checked(files, verified)}.",
        f"Citation: {citation} {_UCI_CITATION}",
    ]
    body = "\n\n".join(textwrap.fill(p, width=79) for p in paragraphs)
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"
