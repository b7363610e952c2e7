"""load_mnist and load_fashion_mnist: tiny IDX files written here, then the real shared data."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from skconvex.datasets import _mnist, load_fashion_mnist, load_mnist

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}

# Tiny data: 3 training and 2 test images. Image k holds (arange(784) + 37 k) % 256, so
# image 0 has every value 0..255.
TRAIN_LABELS = [5, 0, 9]
TEST_LABELS = [3, 3]


def _images(n: int, offset: int = 0) -> np.ndarray:
    k = np.arange(offset, offset + n)[:, None]
    return ((np.arange(784)[None, :] + 37 * k) % 256).astype(np.uint8).reshape(n, 28, 28)


TRAIN_IMAGES = _images(3)
TEST_IMAGES = _images(2, offset=3)


def _idx_images(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x00000803, *images.shape) + images.astype(np.uint8).tobytes()


def _idx_labels(labels) -> bytes:
    return struct.pack(">II", 0x00000801, len(labels)) + bytes(labels)


def _file_name(part: str, kind: str, gz: bool = True, dotted: bool = False) -> str:
    idx = "idx3" if kind == "images" else "idx1"
    return f"{part}-{kind}{'.' if dotted else '-'}{idx}-ubyte{'.gz' if gz else ''}"


def _write(directory: Path, filename: str, content: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    if filename.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(content)
    else:
        path.write_bytes(content)
    return path


def _write_part(directory, part, images, labels, gz=True, dotted=False) -> None:
    _write(directory, _file_name(part, "images", gz, dotted), _idx_images(images))
    _write(directory, _file_name(part, "labels", gz, dotted), _idx_labels(labels))


def _home(root: Path, name: str = "mnist", gz: bool = True, parts=("train", "t10k")) -> Path:
    """A data home with the tiny data set ``name``; returns the data home."""
    tiny = {"train": (TRAIN_IMAGES, TRAIN_LABELS), "t10k": (TEST_IMAGES, TEST_LABELS)}
    for part in parts:
        _write_part(root / name, part, *tiny[part], gz=gz)
    return root


def _load(name: str, home, subset="train", **kwargs):
    kwargs.setdefault("verify_checksum", False)
    return LOADERS[name](home, subset, **kwargs)


# --- the Bunch ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_bunch_exact(tmp_path, name, gz):
    home = _home(tmp_path, name, gz=gz)
    bunch = _load(name, home)
    assert isinstance(bunch, Bunch)
    assert bunch.data.shape == (3, 784) and bunch.data.dtype == np.uint8
    np.testing.assert_array_equal(bunch.data, TRAIN_IMAGES.reshape(3, 784))
    every_value = np.repeat(np.arange(256), [4] * 16 + [3] * 240)  # 784 = 3 * 256 + 16
    np.testing.assert_array_equal(np.sort(bunch.data[0]), every_value)
    assert bunch.images.shape == (3, 28, 28) and bunch.images.dtype == np.uint8
    np.testing.assert_array_equal(bunch.images, TRAIN_IMAGES)
    assert bunch.images[1, 2, 3] == bunch.data[1, 2 * 28 + 3] == (2 * 28 + 3 + 37) % 256
    assert bunch.data.flags.writeable
    assert bunch.target.dtype == np.int64 and bunch.target.tolist() == TRAIN_LABELS
    assert len(bunch.feature_names) == 784
    assert bunch.feature_names[:2] == ["pixel_0_0", "pixel_0_1"]
    assert bunch.feature_names[28] == "pixel_1_0" and bunch.feature_names[-1] == "pixel_27_27"
    assert bunch.feature_names == [f"pixel_{i}_{j}" for i in range(28) for j in range(28)]
    if name == "mnist":
        assert bunch.target_names.tolist() == list(range(10))
    else:
        assert bunch.target_names.tolist() == FASHION_CLASSES
        assert bunch.target_names[bunch.target].tolist() == ["Sandal", "T-shirt/top", "Ankle boot"]
    assert bunch.frame is None and bunch.subset == "train"
    suffix = ".gz" if gz else ""
    assert bunch.filenames == (
        str(tmp_path / name / f"train-images-idx3-ubyte{suffix}"),
        str(tmp_path / name / f"train-labels-idx1-ubyte{suffix}"),
    )
    assert "Rows: 3 (subset 'train'" in bunch.DESCR
    assert "checksums not verified" in bunch.DESCR
    assert ("LeCun" if name == "mnist" else "Zalando") in bunch.DESCR


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_subsets(tmp_path, name):
    only_test = _home(tmp_path / "t", name, parts=("t10k",))  # train files not needed
    test = _load(name, only_test, "test")
    np.testing.assert_array_equal(test.images, TEST_IMAGES)
    assert test.target.tolist() == TEST_LABELS and test.subset == "test"
    assert [Path(f).name for f in test.filenames] == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]

    home = _home(tmp_path / "a", name)
    everything = _load(name, home, "all")
    assert everything.data.shape == (5, 784) and everything.images.shape == (5, 28, 28)
    np.testing.assert_array_equal(everything.images, np.concatenate([TRAIN_IMAGES, TEST_IMAGES]))
    assert everything.target.tolist() == TRAIN_LABELS + TEST_LABELS
    assert [Path(f).name for f in everything.filenames] == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert "Rows: 5 (subset 'all': training then test images)" in everything.DESCR
    np.testing.assert_array_equal(_load(name, home).data, everything.data[:3])
    np.testing.assert_array_equal(_load(name, home, "test").data, everything.data[3:])


@pytest.mark.parametrize("subset", ["training", "TRAIN", None, ("train",)])
def test_invalid_subset(tmp_path, subset):
    home = _home(tmp_path)
    with pytest.raises(ValueError, match="unknown subset.*'train', 'test', 'all'"):
        load_mnist(home, subset, verify_checksum=False)


def test_default_subset_is_train(tmp_path):
    home = _home(tmp_path)
    assert load_mnist(home, verify_checksum=False).target.tolist() == TRAIN_LABELS


# --- dtype and scale ------------------------------------------------------------------


def test_float_dtypes_and_scaling(tmp_path):
    home = _home(tmp_path)
    raw = TRAIN_IMAGES.reshape(3, 784)
    X = load_mnist(home, dtype=np.float32, scale=False, verify_checksum=False).data
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, raw.astype(np.float32))  # not scaled: 0..255
    assert X.max() == 255.0

    for scale in (None, True):  # a floating dtype scales by default
        bunch = load_mnist(home, dtype=np.float32, scale=scale, verify_checksum=False)
        assert bunch.data.dtype == np.float32 and bunch.images.dtype == np.float32
        np.testing.assert_array_equal(bunch.data, raw.astype(np.float32) / np.float32(255))
        assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
        np.testing.assert_array_equal(bunch.images, bunch.data.reshape(3, 28, 28))
        assert "float32, 0..255 divided by 255, in [0, 1]" in bunch.DESCR

    X64 = load_mnist(home, "all", dtype="float64", verify_checksum=False).data
    assert X64.dtype == np.float64
    np.testing.assert_array_equal(
        X64, np.concatenate([TRAIN_IMAGES, TEST_IMAGES]).reshape(5, 784) / 255.0
    )
    assert X64[0, 51] == 0.2 and X64[0, 255] == 1.0
    X16 = load_mnist(home, dtype=np.float16, scale=np.bool_(False), verify_checksum=False).data
    np.testing.assert_array_equal(X16, raw.astype(np.float16))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32, np.int64, "int64"])
@pytest.mark.parametrize("scale", [None, False])
def test_integer_dtypes_are_never_scaled(tmp_path, dtype, scale):
    bunch = load_mnist(_home(tmp_path), dtype=dtype, scale=scale, verify_checksum=False)
    assert bunch.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(bunch.data, TRAIN_IMAGES.reshape(3, 784).astype(dtype))
    assert f"Pixels: {np.dtype(dtype)}, the intensities 0..255" in bunch.DESCR


@pytest.mark.parametrize(
    "dtype, scale, match",
    [
        (np.uint8, True, "scale=True needs a floating dtype"),
        (np.int64, True, "scale=True needs a floating dtype"),
        (np.int8, False, "holds 0..255"),
        (bool, False, "holds 0..255"),
        (np.complex128, False, "holds 0..255"),
        (np.float32, "yes", "scale must be None, True or False"),
        (np.float32, 1, "scale must be None, True or False"),
    ],
)
def test_invalid_dtype_or_scale(tmp_path, dtype, scale, match):
    with pytest.raises(ValueError, match=match):
        load_mnist(_home(tmp_path), dtype=dtype, scale=scale, verify_checksum=False)


# --- return_X_y and as_frame ------------------------------------------------------------


def test_return_X_y_and_as_frame(tmp_path):
    home = _home(tmp_path, "fashion-mnist")
    X, y = load_fashion_mnist(home, "all", return_X_y=True, verify_checksum=False)
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (5, 784) and y.tolist() == TRAIN_LABELS + TEST_LABELS

    bunch = load_fashion_mnist(home, "all", as_frame=True, verify_checksum=False)
    assert isinstance(bunch.data, pd.DataFrame) and isinstance(bunch.target, pd.Series)
    assert bunch.data.columns.tolist() == bunch.feature_names
    assert (bunch.data.dtypes == np.uint8).all()
    np.testing.assert_array_equal(bunch.data.to_numpy(), X)
    assert bunch.target.name == "target" and bunch.target.tolist() == y.tolist()
    assert bunch.target.dtype == np.int64
    assert bunch.frame.shape == (5, 785)
    assert bunch.frame.columns.tolist() == bunch.feature_names + ["target"]
    np.testing.assert_array_equal(bunch.frame["target"].to_numpy(), y)
    assert isinstance(bunch.images, np.ndarray) and bunch.images.shape == (5, 28, 28)
    assert bunch.target_names.tolist() == FASHION_CLASSES

    Xf, yf = load_fashion_mnist(
        home, "test", return_X_y=True, as_frame=True, dtype=np.float32, verify_checksum=False
    )
    assert isinstance(Xf, pd.DataFrame) and isinstance(yf, pd.Series)
    assert Xf.shape == (2, 784) and (Xf.dtypes == np.float32).all()
    np.testing.assert_array_equal(Xf.to_numpy(), TEST_IMAGES.reshape(2, 784) / np.float32(255))
    assert yf.tolist() == TEST_LABELS


# --- file names and data_home --------------------------------------------------------------


@pytest.mark.parametrize("gz, dotted", [(False, False), (True, True), (False, True)])
def test_file_name_variants(tmp_path, gz, dotted):
    tiny = [("train", TRAIN_IMAGES, TRAIN_LABELS), ("t10k", TEST_IMAGES, TEST_LABELS)]
    for part, images, labels in tiny:
        _write_part(tmp_path / "mnist", part, images, labels, gz=gz, dotted=dotted)
    bunch = load_mnist(tmp_path, "all", verify_checksum=False)
    np.testing.assert_array_equal(bunch.images, np.concatenate([TRAIN_IMAGES, TEST_IMAGES]))
    assert Path(bunch.filenames[0]).name == _file_name("train", "images", gz, dotted)


def test_original_gz_name_wins(tmp_path):
    directory = tmp_path / "mnist"
    _write_part(directory, "train", TRAIN_IMAGES[:1], [1], gz=False, dotted=True)
    _write_part(directory, "train", TRAIN_IMAGES[:2], [2, 2], gz=True, dotted=True)
    _write_part(directory, "train", TRAIN_IMAGES, [3, 3, 3], gz=False)
    assert load_mnist(tmp_path, verify_checksum=False).target.tolist() == [3, 3, 3]
    _write_part(directory, "train", TRAIN_IMAGES[:2], [4, 4], gz=True)
    bunch = load_mnist(tmp_path, verify_checksum=False)
    assert bunch.target.tolist() == [4, 4]
    assert Path(bunch.filenames[1]).name == "train-labels-idx1-ubyte.gz"


def test_data_home_from_env_var_and_argument_wins(tmp_path, monkeypatch):
    _home(tmp_path / "env", "fashion-mnist")
    _write_part(tmp_path / "arg" / "fashion-mnist", "train", TEST_IMAGES, TEST_LABELS)
    monkeypatch.setenv("SKCONVEX_DATA", str(tmp_path / "env"))
    assert load_fashion_mnist(verify_checksum=False).target.tolist() == TRAIN_LABELS
    bunch = load_fashion_mnist(tmp_path / "arg", verify_checksum=False)
    assert bunch.target.tolist() == TEST_LABELS
    assert load_fashion_mnist(str(tmp_path / "arg"), verify_checksum=False).data.shape == (2, 784)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, subset, present, missing",
    [
        ("mnist", "train", [], ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]),
        ("mnist", "all", ["t10k"], ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]),
        ("fashion-mnist", "test", ["train"],
         ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]),
        ("fashion-mnist", "all", [], [
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
        ]),
    ],
)  # fmt: skip
def test_missing_files_are_named_with_their_directory(tmp_path, name, subset, present, missing):
    _home(tmp_path, name, parts=present)
    with pytest.raises(FileNotFoundError) as info:
        LOADERS[name](tmp_path, subset)
    message = str(info.value)
    func = "load_mnist" if name == "mnist" else "load_fashion_mnist"
    assert message.startswith(f"{func}: missing file(s) {', '.join(missing)} in directory ")
    for part in present:
        assert part not in message
    assert str((tmp_path / name).absolute()) in message
    assert "data_home" in message and "SKCONVEX_DATA" in message and f"{name}/" in message


def test_missing_one_file_only(tmp_path):
    _home(tmp_path)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing file\(s\) t10k-labels-idx1-ubyte.gz in"):
        load_mnist(tmp_path, "test")
    assert load_mnist(tmp_path, verify_checksum=False).data.shape == (3, 784)


def test_relative_data_home_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "rel" / "mnist"))):
        load_mnist("rel")


def _expect_error(tmp_path, filename: str, content: bytes, match: str, subset="train"):
    """Write the tiny data, replace one file by ``content``, expect a ValueError naming it."""
    _home(tmp_path, gz=filename.endswith(".gz"))
    path = tmp_path / "mnist" / filename
    path.unlink()
    if filename.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(content)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(tmp_path, subset, verify_checksum=False)
    assert str(path) in str(info.value)
    return str(info.value)


def test_bad_magic(tmp_path):
    message = _expect_error(
        tmp_path / "a", "train-images-idx3-ubyte", _idx_labels(TRAIN_LABELS),
        "bad magic number 0x00000801; expected 0x00000803",
    )  # fmt: skip
    assert "images" in message
    _expect_error(
        tmp_path / "b", "t10k-labels-idx1-ubyte.gz", _idx_images(TEST_IMAGES),
        "bad magic number 0x00000803; expected 0x00000801", subset="test",
    )  # fmt: skip
    little_endian = struct.pack("<II", 0x801, 3) + bytes(TRAIN_LABELS)
    _expect_error(
        tmp_path / "c", "train-labels-idx1-ubyte", little_endian, "bad magic number 0x01080000"
    )
    int_images = _idx_images(TRAIN_IMAGES).replace(b"\x00\x00\x08\x03", b"\x00\x00\x0c\x03", 1)
    _expect_error(
        tmp_path / "d", "train-images-idx3-ubyte", int_images, "bad magic number 0x00000C03"
    )


def test_truncated_and_too_long(tmp_path):
    images = _idx_images(TRAIN_IMAGES)
    message = _expect_error(tmp_path / "a", "train-images-idx3-ubyte", images[:-1], "truncated")
    assert f"(3, 28, 28), {len(images)} bytes in all, but the file has {len(images) - 1}" in message
    _expect_error(tmp_path / "b", "train-images-idx3-ubyte.gz", images[:1000], "truncated")
    _expect_error(tmp_path / "c", "train-images-idx3-ubyte", images[:10], "truncated IDX header")
    _expect_error(tmp_path / "d", "train-labels-idx1-ubyte", b"\x00\x00", "truncated IDX file")
    _expect_error(tmp_path / "e", "train-labels-idx1-ubyte", b"", "truncated IDX file")
    _expect_error(
        tmp_path / "f", "train-labels-idx1-ubyte", _idx_labels(TRAIN_LABELS) + b"\x00", "too long"
    )


def test_corrupt_or_truncated_gzip(tmp_path):
    _home(tmp_path)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    compressed = path.read_bytes()
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match="cannot decompress") as info:
        load_mnist(tmp_path, verify_checksum=False)
    assert str(path) in str(info.value)
    path.write_bytes(_idx_images(TRAIN_IMAGES))  # not gzipped at all
    with pytest.raises(ValueError, match=re.escape(f"{path}: cannot decompress")):
        load_mnist(tmp_path, verify_checksum=False)


def test_counts_must_agree(tmp_path):
    _home(tmp_path)
    _write(tmp_path / "mnist", "t10k-labels-idx1-ubyte.gz", _idx_labels([1, 2, 3]))
    directory = tmp_path / "mnist"
    with pytest.raises(ValueError) as info:
        load_mnist(tmp_path, "all", verify_checksum=False)
    assert str(info.value) == (
        f"{directory / 't10k-images-idx3-ubyte.gz'} has 2 images but "
        f"{directory / 't10k-labels-idx1-ubyte.gz'} has 3 labels; they must agree."
    )


def test_image_size_and_label_range(tmp_path):
    message = _expect_error(
        tmp_path / "a", "train-images-idx3-ubyte", _idx_images(np.zeros((3, 27, 28))), "27 x 28"
    )
    assert "expected 28 x 28" in message
    _expect_error(
        tmp_path / "b", "train-labels-idx1-ubyte", _idx_labels([1, 10, 255]),
        re.escape("label value(s) [10, 255] outside 0..9"),
    )  # fmt: skip


# --- checksums ------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_tiny_gz_file_fails_checksum(tmp_path, name):
    _home(tmp_path, name)
    path = tmp_path / name / "train-images-idx3-ubyte.gz"
    with pytest.raises(ValueError) as info:
        LOADERS[name](tmp_path)
    message = str(info.value)
    expected, expected_content = _mnist._SHA256[name]["train-images"]
    assert message.startswith(f"{path}: SHA-256 mismatch: expected {expected}")
    assert f"got {_sha256(path.read_bytes())};" in message
    actual_content = _sha256(_idx_images(TRAIN_IMAGES))
    assert f"content has {actual_content}, expected {expected_content}" in message
    assert "verify_checksum=False" in message


def test_tiny_raw_file_fails_checksum(tmp_path):
    _home(tmp_path, gz=False)
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte"
    with pytest.raises(ValueError) as info:
        load_mnist(tmp_path, "test")
    expected = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
    assert str(info.value).startswith(
        f"{path}: SHA-256 mismatch: expected {expected} (the digest of the original "
        f"uncompressed file), got {_sha256(_idx_images(TEST_IMAGES))}."
    )


def test_checksum_table_matches_the_readme():
    published = {
        "mnist": [
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ],
        "fashion-mnist": [
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ],
    }
    stems = ["train-images", "train-labels", "t10k-images", "t10k-labels"]
    for name, digests in published.items():
        assert list(_mnist._SHA256[name]) == stems
        assert [_mnist._SHA256[name][stem][0] for stem in stems] == digests
        digests = [d for pair in _mnist._SHA256[name].values() for d in pair]
        assert all(re.fullmatch("[0-9a-f]{64}", d) for d in digests)


def test_checksum_logic_with_a_patched_table(tmp_path, monkeypatch):
    """Stored .gz digest, recompressed .gz (content digest), raw file; then one byte off."""
    _home(tmp_path, parts=("t10k",))
    directory = tmp_path / "mnist"
    gz_images = directory / "t10k-images-idx3-ubyte.gz"
    gz_labels = directory / "t10k-labels-idx1-ubyte.gz"
    table = {
        "t10k-images": (_sha256(gz_images.read_bytes()), _sha256(_idx_images(TEST_IMAGES))),
        # the labels' .gz digest is wrong: only the content digest can match
        "t10k-labels": ("0" * 64, _sha256(_idx_labels(TEST_LABELS))),
    }
    monkeypatch.setitem(_mnist._SHA256, "mnist", table)
    bunch = load_mnist(tmp_path, "test")
    assert bunch.target.tolist() == TEST_LABELS
    assert "their SHA-256 matched the original files" in bunch.DESCR

    gz_labels.unlink()
    _write(directory, "t10k-labels-idx1-ubyte", _idx_labels(TEST_LABELS))  # raw
    assert load_mnist(tmp_path, "test").target.tolist() == TEST_LABELS

    _write(directory, "t10k-labels-idx1-ubyte", _idx_labels([3, 4]))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte: SHA-256 mismatch"):
        load_mnist(tmp_path, "test")
    assert load_mnist(tmp_path, "test", verify_checksum=False).target.tolist() == [3, 4]

    _write(directory, "t10k-labels-idx1-ubyte", _idx_labels(TEST_LABELS))
    gz_images.write_bytes(gzip.compress(_idx_images(TEST_IMAGES[::-1]), mtime=0))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: SHA-256 mismatch"):
        load_mnist(tmp_path, "test")


# --- the real files --------------------------------------------------------------------------


def _real_home() -> Path:
    env = os.environ.get("SKCONVEX_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


REAL_HOME = _real_home()
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _load_real(name: str) -> Bunch:
    if not (REAL_HOME / name).is_dir():
        pytest.skip(f"no real {name} data in {REAL_HOME / name}")
    return LOADERS[name](REAL_HOME, "all")  # verify_checksum=True: each file read once


@pytest.fixture(scope="module")
def real_mnist():
    return _load_real("mnist")


@pytest.fixture(scope="module")
def real_fashion():
    return _load_real("fashion-mnist")


def _mean_std(pixels: np.ndarray) -> tuple[float, float]:
    """Mean and std of uint8 pixels / 255, from their histogram (fast)."""
    counts = np.bincount(pixels.ravel(), minlength=256)
    values = np.arange(256) / 255
    mean = counts @ values / counts.sum()
    return float(mean), float(np.sqrt(counts @ (values - mean) ** 2 / counts.sum()))


def test_real_mnist(real_mnist):
    assert real_mnist.data.shape == (70000, 784) and real_mnist.data.dtype == np.uint8
    assert real_mnist.images.shape == (70000, 28, 28)
    assert np.bincount(real_mnist.target[:60000]).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(real_mnist.target[60000:]).tolist() == MNIST_TEST_COUNTS
    assert real_mnist.data.min() == 0 and real_mnist.data.max() == 255
    assert real_mnist.target[:5].tolist() == [5, 0, 4, 1, 9]
    assert real_mnist.target[60000:60005].tolist() == [7, 2, 1, 0, 4]
    # the usual normalisation constants: mean 0.1307, std 0.3081 of the training pixels
    mean, std = _mean_std(real_mnist.data[:60000])
    assert abs(mean - 0.1307) < 1e-4 and abs(std - 0.3081) < 1e-4
    assert [Path(f).name for f in real_mnist.filenames] == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert "their SHA-256 matched the original files" in real_mnist.DESCR


def test_real_fashion_mnist(real_fashion):
    assert real_fashion.data.shape == (70000, 784) and real_fashion.images.shape == (70000, 28, 28)
    assert np.bincount(real_fashion.target[:60000]).tolist() == [6000] * 10
    assert np.bincount(real_fashion.target[60000:]).tolist() == [1000] * 10
    assert real_fashion.data.min() == 0 and real_fashion.data.max() == 255
    assert real_fashion.target_names.tolist() == FASHION_CLASSES
    assert real_fashion.target_names[real_fashion.target[0]] == "Ankle boot"
    mean, std = _mean_std(real_fashion.data[:60000])
    assert abs(mean - 0.2860) < 1e-4 and abs(std - 0.3530) < 1e-4
    assert "their SHA-256 matched the original files" in real_fashion.DESCR


def test_real_uncompressed_and_recompressed_files_pass_the_checksum(tmp_path, real_mnist):
    """The small test part: raw images, labels re-compressed with other gzip settings."""
    source = REAL_HOME / "mnist"
    images = gzip.decompress((source / "t10k-images-idx3-ubyte.gz").read_bytes())
    labels = gzip.decompress((source / "t10k-labels-idx1-ubyte.gz").read_bytes())
    _write(tmp_path / "mnist", "t10k-images.idx3-ubyte", images)
    recompressed = gzip.compress(labels, compresslevel=1, mtime=0)
    assert recompressed != (source / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(recompressed)
    test = load_mnist(tmp_path, "test")  # verify_checksum=True
    np.testing.assert_array_equal(test.data, real_mnist.data[60000:])
    np.testing.assert_array_equal(test.target, real_mnist.target[60000:])
    # one pixel changed: the checksum catches it
    (tmp_path / "mnist" / "t10k-images.idx3-ubyte").write_bytes(images[:-1] + b"\x01")
    with pytest.raises(ValueError, match=r"t10k-images\.idx3-ubyte: SHA-256 mismatch"):
        load_mnist(tmp_path, "test")


# --- hostile files: read with bounded memory, every error names the file -------------------


def _gzip_bomb(path: Path, head: bytes, mebibytes: int) -> None:
    """A gzip file of ``head`` then ``mebibytes`` MiB of zeros, about 1 kB per MiB.

    Members of one MiB of zeros each, repeated (a valid multi-member gzip file, as
    ``gzip`` itself reads them): no time is spent compressing.
    """
    zeros = gzip.compress(bytes(1 << 20), mtime=0)
    with open(path, "wb") as f:
        f.write(gzip.compress(head, mtime=0))
        for _ in range(mebibytes):
            f.write(zeros)


def _peak_memory(func) -> tuple[BaseException, int]:
    """The exception ``func()`` raises and the peak of Python's allocations meanwhile."""
    tracemalloc.start()
    try:
        func()
    except Exception as exc:  # noqa: BLE001 - returned for the caller to check
        error = exc
    else:
        raise AssertionError("no exception")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak


@pytest.mark.parametrize("verify", [True, False])
def test_gzip_bomb_is_refused_without_inflating_it(tmp_path, verify):
    """The issue's case: a 1 MB t10k-images .gz that inflates to 1 GiB, with a valid header.
    It is refused at the size of the original (or that the header announces: the same
    7.8 MB here), and memory stays near that size, far below the 1 GiB."""
    directory = tmp_path / "mnist"
    _write_part(directory, "t10k", TEST_IMAGES, TEST_LABELS)
    images = directory / "t10k-images-idx3-ubyte.gz"
    _gzip_bomb(images, struct.pack(">IIII", 0x803, 10000, 28, 28), mebibytes=1024)
    assert images.stat().st_size < 1_200_000
    error, peak = _peak_memory(lambda: load_mnist(tmp_path, "test", verify_checksum=verify))
    assert isinstance(error, ValueError)
    limit = 16 + 10000 * 784
    source = "the size of the original file" if verify else "the size its IDX header announces"
    assert str(error).startswith(
        f"{images}: too long: the content goes past {limit} bytes ({source}); reading stopped"
    )
    assert peak < 2 * limit + (4 << 20), peak  # about the limit: 1 GiB was never inflated


def test_file_larger_than_the_header_allows_is_refused_before_reading(tmp_path):
    _home(tmp_path, gz=False, parts=("t10k",))
    labels = tmp_path / "mnist" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(_idx_labels(TEST_LABELS) + bytes(1 << 20))
    with pytest.raises(ValueError) as info:
        load_mnist(tmp_path, "test", verify_checksum=False)
    assert str(info.value) == (
        f"{labels}: too long: {10 + (1 << 20)} bytes on disk, but the content may have at "
        "most 10 bytes (the size its IDX header announces); refused without reading it."
    )


def test_truncated_gzip_names_the_file_even_in_the_header(tmp_path):
    _home(tmp_path)
    path = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:12])  # the gzip header only: no data at all
    with pytest.raises(ValueError, match=re.escape(f"{path}: cannot decompress")) as info:
        load_mnist(tmp_path, verify_checksum=False)
    assert isinstance(info.value.__cause__, EOFError)
