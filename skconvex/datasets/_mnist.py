"""Loaders of MNIST and Fashion-MNIST: :func:`load_mnist`, :func:`load_fashion_mnist`.

The files are the four original IDX files of each data set, read from
``<data_home>/mnist/`` and ``<data_home>/fashion-mnist/`` (see
:func:`~skconvex.datasets.get_data_home`), gzipped or not. Nothing is downloaded.
"""

from __future__ import annotations

import os
import struct
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._files import read_capped, read_head, verify_digests
from ._home import get_data_home

__all__ = ["load_fashion_mnist", "load_mnist"]

_SUBSETS = ("train", "test", "all")
_PARTS = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}
_N_ROWS = _N_COLS = 28
_N_PIXELS = _N_ROWS * _N_COLS
_N_CLASSES = 10
_N_ORIGINAL = {"train": 60000, "t10k": 10000}  # images in the original files
_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension

_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# SHA-256 of each original file: (the published .gz file, its decompressed content).
# The .gz digests are the published ones (see shared/data/README.md); the digests of
# the content were computed from those verified files.
_SHA256: dict[str, dict[str, tuple[str, str]]] = {
    "mnist": {
        "train-images": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        "train-labels": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        "t10k-images": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        "t10k-labels": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    },
    "fashion-mnist": {
        "train-images": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train-labels": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "t10k-images": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "t10k-labels": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
}

_DESCR_HEAD = {
    "mnist": (
        "MNIST handwritten digits",
        "The MNIST database of handwritten digits (Y. LeCun, C. Cortes and C.J.C. "
        "Burges), the original IDX files.",
        "Y. LeCun, L. Bottou, Y. Bengio, and P. Haffner. Gradient-based learning applied "
        "to document recognition. Proceedings of the IEEE, 86(11):2278-2324, 1998.",
    ),
    "fashion-mnist": (
        "Fashion-MNIST",
        "Zalando Research, Fashion-MNIST (MIT License, (c) 2017 Zalando SE), the "
        "original IDX files.",
        "H. Xiao, K. Rasul, and R. Vollgraf. Fashion-MNIST: a Novel Image Dataset for "
        "Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.",
    ),
}

_FEATURE_NAMES = [f"pixel_{i}_{j}" for i in range(_N_ROWS) for j in range(_N_COLS)]


# The parameters both loaders share, spliced into their docstrings below.
_SHARED_PARAMETERS = """    subset : {"train", "test", "all"}, default="train"
        The 60000 training images, the 10000 test images, or both (70000 rows,
        training images first).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame (columns ``feature_names``) and
        ``target`` as a Series named ``"target"``; ``frame`` is then both in one
        DataFrame.
    dtype : dtype, default=np.uint8
        The dtype of the pixels: an integer dtype that holds 0..255 or a floating
        dtype. The pixel intensities are 0..255 (0 is the background); see
        ``scale`` for floating dtypes.
    scale : bool or None, default=None
        Whether to divide the pixels by 255, to the range [0, 1] (the division is
        done in ``dtype``). None scales exactly when ``dtype`` is floating: the
        default uint8 gives 0..255, ``dtype=np.float32`` gives [0, 1].
        ``scale=False`` with a floating dtype keeps 0..255; ``scale=True`` needs a
        floating dtype.
    verify_checksum : bool, default=True
        Check the SHA-256 of each file read against that of the original. For a
        ``.gz`` file that is the published digest of the distributed file; a
        re-compressed copy passes too if its decompressed content has the digest
        of the original content. An uncompressed file must have the digest of the
        original content. Tiny or modified files need ``verify_checksum=False``.
        Either way the IDX header is read first and fixes the size of the content
        (with ``verify_checksum=True`` at most the original's): gzip files are
        inflated in chunks and refused as soon as they go past that size, so a
        small file that inflates to gigabytes never fills the memory.
"""


_RAISES_DOC = """    Raises
    ------
    ValueError
        If ``subset``, ``dtype`` or ``scale`` is not valid, a file is not a valid
        IDX file of the expected kind, is corrupt, truncated or longer than its
        header (or the original) allows (the message names it), or a checksum
        does not match (the message names the file, the expected and the actual
        digest).
    FileNotFoundError
        If files are missing; the message names them and the directory they
        should be in.
"""


def _share_parameters(func):
    if func.__doc__:  # None under python -OO
        func.__doc__ = func.__doc__.replace("    %(shared_parameters)s\n", _SHARED_PARAMETERS)
        func.__doc__ = func.__doc__.replace("%(raises)s", _RAISES_DOC)
    return func


@_share_parameters
def load_mnist(
    data_home: str | os.PathLike[str] | None = None,
    subset: str = "train",
    *,
    return_X_y: bool = False,
    as_frame: bool = False,
    dtype=np.uint8,
    scale: bool | None = None,
    verify_checksum: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray] | tuple[pd.DataFrame, pd.Series]:
    """Load the MNIST handwritten digits from the original IDX files.

    The four original files are read from ``<data_home>/mnist/``; nothing is
    downloaded. Each may be gzipped or not, and spelled with a dash or a dot
    before ``idx``; the first of these names that exists is read:

    ============================  =================================================
    part                          file names, in the order they are looked for
    ============================  =================================================
    training images (60000)       ``train-images-idx3-ubyte.gz``,
                                  ``train-images-idx3-ubyte``,
                                  ``train-images.idx3-ubyte.gz``,
                                  ``train-images.idx3-ubyte``
    training labels               ``train-labels-idx1-ubyte.gz`` (and so on)
    test images (10000)           ``t10k-images-idx3-ubyte.gz`` (and so on)
    test labels                   ``t10k-labels-idx1-ubyte.gz`` (and so on)
    ============================  =================================================

    Only the files of the requested ``subset`` are needed. The IDX headers are
    checked (magic number 0x00000803 for images and 0x00000801 for labels, 28 x 28
    images, the length of the data, as many labels as images, labels 0..9).

    Parameters
    ----------
    data_home : str or path-like, default=None
        The directory that contains ``mnist/``; see
        :func:`~skconvex.datasets.get_data_home` for the default (the
        ``SKCONVEX_DATA`` environment variable, else ``~/skconvex_data``).
    %(shared_parameters)s

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, 784) or DataFrame
            The pixels, row by row, in ``dtype``.
        target : ndarray of shape (n_samples,) or Series
            The digits 0..9, int64.
        frame : DataFrame of shape (n_samples, 785) or None
            ``data`` and ``target`` together; only with ``as_frame=True``.
        images : ndarray of shape (n_samples, 28, 28)
            The pixels as images (an ndarray even with ``as_frame=True``).
        feature_names : list of str
            ``"pixel_<row>_<col>"`` from ``"pixel_0_0"`` to ``"pixel_27_27"``, row
            by row (as :func:`load_uci` names the optdigits pixels).
        target_names : ndarray of shape (10,)
            The digits 0..9: ``target_names[k]`` is class ``k``.
        DESCR : str
            Source, size, pixel values, files and citation.
        filenames : tuple of str
            The files read: images and labels of the training part, then of the
            test part.
        subset : str
            The ``subset`` loaded.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as described above.

%(raises)s
    See Also
    --------
    load_fashion_mnist : The same for Fashion-MNIST.

    Examples
    --------
    Tiny stand-ins for the four uncompressed IDX files, in a temporary data home:

    >>> import struct
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skconvex.datasets import load_mnist
    >>> tmp = tempfile.TemporaryDirectory()
    >>> directory = Path(tmp.name) / "mnist"
    >>> directory.mkdir()
    >>> images = np.zeros((3, 28, 28), dtype=np.uint8)
    >>> images[:, 14, 14] = [0, 51, 255]
    >>> for part in ("train", "t10k"):
    ...     _ = (directory / f"{part}-images-idx3-ubyte").write_bytes(
    ...         struct.pack(">IIII", 0x803, 3, 28, 28) + images.tobytes()
    ...     )
    ...     _ = (directory / f"{part}-labels-idx1-ubyte").write_bytes(
    ...         struct.pack(">II", 0x801, 3) + bytes([7, 2, 1])
    ...     )
    >>> mnist = load_mnist(tmp.name, verify_checksum=False)
    >>> mnist.data.shape, mnist.data.dtype, mnist.images.shape
    ((3, 784), dtype('uint8'), (3, 28, 28))
    >>> mnist.data[:, 14 * 28 + 14], mnist.target
    (array([  0,  51, 255], dtype=uint8), array([7, 2, 1]))
    >>> mnist.feature_names[:2], mnist.feature_names[-1]
    (['pixel_0_0', 'pixel_0_1'], 'pixel_27_27')

    A floating ``dtype`` scales the pixels to [0, 1], unless ``scale=False``:

    >>> X, y = load_mnist(
    ...     tmp.name, "all", return_X_y=True, dtype=np.float32, verify_checksum=False
    ... )
    >>> X.shape, X[:, 14 * 28 + 14]
    ((6, 784), array([0. , 0.2, 1. , 0. , 0.2, 1. ], dtype=float32))
    >>> X = load_mnist(tmp.name, dtype=np.float32, scale=False, verify_checksum=False).data
    >>> X[:, 14 * 28 + 14]
    array([  0.,  51., 255.], dtype=float32)

    The checksums are those of the original files, so the tiny files fail them:

    >>> load_mnist(tmp.name)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...train-images-idx3-ubyte: SHA-256 mismatch...
    >>> tmp.cleanup()

    With the real files in ``~/skconvex_data/mnist/`` (or where ``SKCONVEX_DATA``
    points):

    >>> load_mnist(subset="all").data.shape  # doctest: +SKIP
    (70000, 784)
    """
    return _load("mnist", data_home, subset, return_X_y, as_frame, dtype, scale, verify_checksum)


@_share_parameters
def load_fashion_mnist(
    data_home: str | os.PathLike[str] | None = None,
    subset: str = "train",
    *,
    return_X_y: bool = False,
    as_frame: bool = False,
    dtype=np.uint8,
    scale: bool | None = None,
    verify_checksum: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray] | tuple[pd.DataFrame, pd.Series]:
    """Load Fashion-MNIST (Zalando's article images) from the original IDX files.

    The four original files are read from ``<data_home>/fashion-mnist/``; nothing
    is downloaded. The file names, layout and checks are those of MNIST (see
    :func:`load_mnist`): ``train-images-idx3-ubyte.gz`` (60000 images),
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` (10000 images)
    and ``t10k-labels-idx1-ubyte.gz``, each also accepted uncompressed or with a
    dot before ``idx``. The target is the class index 0..9; ``target_names``
    holds the names: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt,
    Sneaker, Bag, Ankle boot.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The directory that contains ``fashion-mnist/``; see
        :func:`~skconvex.datasets.get_data_home` for the default (the
        ``SKCONVEX_DATA`` environment variable, else ``~/skconvex_data``).
    %(shared_parameters)s

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, 784) or DataFrame
            The pixels, row by row, in ``dtype``.
        target : ndarray of shape (n_samples,) or Series
            The class indices 0..9, int64.
        frame : DataFrame of shape (n_samples, 785) or None
            ``data`` and ``target`` together; only with ``as_frame=True``.
        images : ndarray of shape (n_samples, 28, 28)
            The pixels as images (an ndarray even with ``as_frame=True``).
        feature_names : list of str
            ``"pixel_<row>_<col>"`` from ``"pixel_0_0"`` to ``"pixel_27_27"``, row
            by row.
        target_names : ndarray of shape (10,)
            The class names: ``target_names[k]`` is the name of class ``k``.
        DESCR : str
            Source, size, pixel values, files and citation.
        filenames : tuple of str
            The files read: images and labels of the training part, then of the
            test part.
        subset : str
            The ``subset`` loaded.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as described above.

%(raises)s
    See Also
    --------
    load_mnist : The same for the MNIST digits.

    Examples
    --------
    Tiny gzipped stand-ins for the two test files, in a temporary data home:

    >>> import gzip
    >>> import struct
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skconvex.datasets import load_fashion_mnist
    >>> tmp = tempfile.TemporaryDirectory()
    >>> directory = Path(tmp.name) / "fashion-mnist"
    >>> directory.mkdir()
    >>> images = np.full((2, 28, 28), 255, dtype=np.uint8)
    >>> with gzip.open(directory / "t10k-images-idx3-ubyte.gz", "wb") as f:
    ...     _ = f.write(struct.pack(">IIII", 0x803, 2, 28, 28) + images.tobytes())
    >>> with gzip.open(directory / "t10k-labels-idx1-ubyte.gz", "wb") as f:
    ...     _ = f.write(struct.pack(">II", 0x801, 2) + bytes([9, 0]))
    >>> fashion = load_fashion_mnist(
    ...     tmp.name, "test", as_frame=True, dtype=np.float64, verify_checksum=False
    ... )
    >>> fashion.data.shape, fashion.target.tolist()
    ((2, 784), [9, 0])
    >>> fashion.target_names[fashion.target].tolist()
    ['Ankle boot', 'T-shirt/top']
    >>> float(fashion.data.to_numpy().max()), fashion.frame.columns[-2:].tolist()
    (1.0, ['pixel_27_27', 'target'])

    The training files are missing:

    >>> load_fashion_mnist(tmp.name, "train", verify_checksum=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: load_fashion_mnist: missing file(s) train-images-idx3-ubyte.gz, ...
    >>> tmp.cleanup()

    With the real files in ``~/skconvex_data/fashion-mnist/`` (or where
    ``SKCONVEX_DATA`` points):

    >>> load_fashion_mnist(subset="test").data.shape  # doctest: +SKIP
    (10000, 784)
    """
    return _load(
        "fashion-mnist", data_home, subset, return_X_y, as_frame, dtype, scale, verify_checksum
    )


# --- the shared loader --------------------------------------------------------------


def _load(name, data_home, subset, return_X_y, as_frame, dtype, scale, verify_checksum):
    func = "load_mnist" if name == "mnist" else "load_fashion_mnist"
    if not isinstance(subset, str) or subset not in _SUBSETS:
        raise ValueError(f"{func}: unknown subset {subset!r}; valid subsets are {list(_SUBSETS)}.")
    dtype, scale = _check_dtype(dtype, scale)
    directory = get_data_home(data_home).absolute() / name

    stems = [f"{part}-{kind}" for part in _PARTS[subset] for kind in ("images", "labels")]
    found = {stem: _find(directory, stem) for stem in stems}
    missing = [_canonical_name(stem) for stem, path in found.items() if path is None]
    if missing:
        raise FileNotFoundError(
            f"{func}: missing file(s) {', '.join(missing)} in directory "
            f"{os.fspath(directory)}. Put the original IDX files there, gzipped or not "
            "(nothing is downloaded), or pass data_home= (or set the SKCONVEX_DATA "
            f"environment variable) to the directory that contains {name}/."
        )

    pixel_parts, label_parts, file_rows = [], [], []
    for part in _PARTS[subset]:
        images_path, labels_path = found[f"{part}-images"], found[f"{part}-labels"]
        images = _read_idx(images_path, name, f"{part}-images", verify_checksum)
        labels = _read_idx(labels_path, name, f"{part}-labels", verify_checksum)
        if len(images) != len(labels):
            raise ValueError(
                f"{images_path} has {len(images)} images but {labels_path} has "
                f"{len(labels)} labels; they must agree."
            )
        if labels.size and labels.max() >= _N_CLASSES:
            bad = sorted(set(labels[labels >= _N_CLASSES].tolist()))
            raise ValueError(
                f"{labels_path}: label value(s) {bad[:10]} outside 0..{_N_CLASSES - 1}."
            )
        pixel_parts.append(images.reshape(len(images), _N_PIXELS))
        label_parts.append(labels)
        file_rows.append(len(images))

    X = np.concatenate(pixel_parts).astype(dtype, copy=False)  # a new, writable array
    if scale:
        np.divide(X, dtype.type(255), out=X)
    y = np.concatenate(label_parts).astype(np.int64)
    files = [found[stem] for stem in stems]

    if name == "mnist":
        target_names = np.arange(_N_CLASSES, dtype=np.int64)
    else:
        target_names = np.array(_FASHION_CLASSES)
    descr = _describe(
        name, subset, y, target_names, dtype, scale, files, file_rows, verify_checksum
    )

    frame = None
    data: np.ndarray | pd.DataFrame = X
    target: np.ndarray | pd.Series = y
    if as_frame:
        data = pd.DataFrame(X, columns=list(_FEATURE_NAMES))
        target = pd.Series(y, name="target")
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        images=X.reshape(len(X), _N_ROWS, _N_COLS),
        feature_names=list(_FEATURE_NAMES),
        target_names=target_names,
        DESCR=descr,
        filenames=tuple(os.fspath(f) for f in files),
        subset=subset,
    )


def _check_dtype(dtype, scale) -> tuple[np.dtype, bool]:
    """The pixel dtype, and whether to scale (``scale=None``: for floating dtypes)."""
    if scale is not None and not isinstance(scale, (bool, np.bool_)):
        raise ValueError(f"scale must be None, True or False; got {scale!r}.")
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype, True if scale is None else bool(scale)
    if dtype.kind not in "iu" or np.iinfo(dtype).max < 255:
        raise ValueError(
            f"dtype must be an integer dtype that holds 0..255 or a floating dtype; got {dtype}."
        )
    if scale:
        raise ValueError(
            f"scale=True needs a floating dtype (e.g. dtype=np.float32); got dtype {dtype}."
        )
    return dtype, False


# --- files ------------------------------------------------------------------------------


def _canonical_name(stem: str) -> str:
    kind = "idx3" if stem.endswith("images") else "idx1"
    return f"{stem}-{kind}-ubyte.gz"


def _candidates(stem: str) -> list[str]:
    kind = "idx3" if stem.endswith("images") else "idx1"
    return [
        f"{stem}-{kind}-ubyte.gz",
        f"{stem}-{kind}-ubyte",
        f"{stem}.{kind}-ubyte.gz",
        f"{stem}.{kind}-ubyte",
    ]


def _find(directory: Path, stem: str) -> Path | None:
    for filename in _candidates(stem):
        if (directory / filename).is_file():
            return directory / filename
    return None


def _original_size(stem: str) -> int:
    """Bytes of the original uncompressed file ``stem`` (the same for both data sets)."""
    part, kind = stem.split("-")
    n = _N_ORIGINAL[part]
    return 16 + n * _N_PIXELS if kind == "images" else 8 + n


def _read_idx(path: Path, name: str, stem: str, verify_checksum: bool) -> np.ndarray:
    """The uint8 array of the IDX file ``path``: header first, then the capped content.

    The header is read and checked before the data, and fixes the size of the content;
    with ``verify_checksum`` that size is at most the original's. Reading stops past
    that size, so a file that inflates beyond it is refused with bounded memory.
    """
    images = stem.endswith("images")
    magic, what = (_IMAGES_MAGIC, "images") if images else (_LABELS_MAGIC, "labels")
    header = 4 + 4 * (magic & 0xFF)
    shape = _parse_header(path, read_head(path, header), magic, what)
    announced = header + int(np.prod(shape, dtype=np.int64))
    limit, source = announced, "the size its IDX header announces"
    if verify_checksum and _original_size(stem) <= announced:
        limit, source = _original_size(stem), "the size of the original file"
    content = read_capped(path, limit, source)
    if verify_checksum:
        verify_digests(path, content, *_SHA256[name][stem])
    if len(content) != announced:  # read_capped refused anything longer
        raise ValueError(
            f"{path}: truncated: the header announces {what} of shape {shape}, "
            f"{announced} bytes in all, but the file has {len(content)}."
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def _parse_header(path: Path, head: bytes, magic: int, what: str) -> tuple[int, ...]:
    """The shape an IDX header of unsigned bytes announces, checked (28 x 28 images)."""
    if len(head) < 4:
        raise ValueError(f"{path}: truncated IDX file ({len(head)} bytes, no header).")
    (actual_magic,) = struct.unpack(">I", head[:4])
    if actual_magic != magic:
        raise ValueError(
            f"{path}: bad magic number 0x{actual_magic:08X}; expected 0x{magic:08X} "
            f"(IDX {what} file of unsigned bytes, {magic & 0xFF} dimension(s))."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(head) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(head)} bytes, expected {header}).")
    shape = struct.unpack(f">{ndim}I", head[4:header])
    if what == "images" and shape[1:] != (_N_ROWS, _N_COLS):
        raise ValueError(
            f"{path}: images are {shape[1]} x {shape[2]}; expected {_N_ROWS} x {_N_COLS}."
        )
    return shape


# --- DESCR ---------------------------------------------------------------------------


def _describe(name, subset, y, target_names, dtype, scale, files, file_rows, verified) -> str:
    title, source, citation = _DESCR_HEAD[name]
    counts = np.bincount(y, minlength=_N_CLASSES)
    class_counts = ", ".join(f"{label}: {count}" for label, count in zip(target_names, counts))
    values = "0..255 divided by 255, in [0, 1]" if scale else "the intensities 0..255"
    check = (
        "their SHA-256 matched the original files"
        if verified
        else "checksums not verified (verify_checksum=False)"
    )
    parts = " then ".join("training" if p == "train" else "test" for p in _PARTS[subset])
    paragraphs = [
        f"Source: {source}",
        f"Rows: {len(y)} (subset {subset!r}: {parts} images). Features: {_N_PIXELS} "
        f"pixels of {_N_ROWS} x {_N_COLS} images, row by row, named "
        f"pixel_<row>_<col>. Classes: {_N_CLASSES} ({class_counts}).",
        f"Pixels: {dtype}, {values}; 0 is the background.",
        "Files read: "
        + ", ".join(f"{Path(f).name} ({n} rows)" for f, n in zip(files, np.repeat(file_rows, 2)))
        + f"; {check}.",
        f"Citation: {citation}",
    ]
    body = "\n\n".join(textwrap.fill(p, width=79) for p in paragraphs)
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"

