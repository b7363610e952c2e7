"""load_uci and get_data_home: tiny files written here, then the real shared data if present."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tracemalloc
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from skconvex.datasets import UCI_DATASETS, get_data_home, load_uci
from skconvex.datasets import _uci
from skconvex.datasets._uci import _MFEAT_VIEWS

CAR_FEATURES = [
    "buying=vhigh", "buying=high", "buying=med", "buying=low",
    "maint=vhigh", "maint=high", "maint=med", "maint=low",
    "doors=2", "doors=3", "doors=4", "doors=5more",
    "persons=2", "persons=4", "persons=more",
    "lug_boot=small", "lug_boot=med", "lug_boot=big",
    "safety=low", "safety=med", "safety=high",
]  # fmt: skip

SEG_HEADER = (
    ";;; -*- Mode:Common-Lisp; Base:10 -*-\n"
    ";;; *-* Last-edit: 11/21/90 15:28:30 by Brodley; *-* \n"
    "\n"
    "REGION-CENTROID-COL,REGION-CENTROID-ROW,REGION-PIXEL-COUNT,SHORT-LINE-DENSITY-5,"
    "SHORT-LINE-DENSITY-2,VEDGE-MEAN,VEDGE-SD,HEDGE-MEAN,HEDGE-SD,INTENSITY-MEAN,RAWRED-MEAN,"
    "RAWBLUE-MEAN,RAWGREEN-MEAN,EXRED-MEAN,EXBLUE-MEAN,EXGREEN-MEAN,VALUE-MEAN,"
    "SATURATION-MEAN,HUE-MEAN\n"
    "\n"
)


def load_tiny(*args, **kwargs):
    """``load_uci`` on the tiny stand-in files written here: no checksum to match."""
    kwargs.setdefault("verify_checksum", False)
    return load_uci(*args, **kwargs)


def _dir(root: Path, name: str) -> Path:
    directory = root / "uci" / name
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _seg_row(label: str, start: float) -> str:
    return ",".join([label] + [repr(start + j) for j in range(19)])


def _isolet_text(rows: np.ndarray, labels) -> str:
    """Rows as the UCI file writes them: ', ' between values, the label as '<k>.'."""
    labels = [f"{label}." if isinstance(label, int) else label for label in labels]
    return "".join(
        ", ".join(f"{v:.4f}" for v in row) + f", {label}\n" for row, label in zip(rows, labels)
    )


# --- get_data_home -------------------------------------------------------------------


def test_get_data_home_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("SKCONVEX_DATA", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"  # the argument wins
    assert get_data_home(str(tmp_path / "arg")) == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.setenv("SKCONVEX_DATA", "")  # empty counts as unset
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "skconvex_data"
    monkeypatch.delenv("SKCONVEX_DATA")
    assert get_data_home() == tmp_path / "home" / "skconvex_data"
    assert get_data_home("~/elsewhere") == tmp_path / "home" / "elsewhere"
    assert isinstance(get_data_home(), Path)
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_load_uses_env_var_and_argument_wins(tmp_path, monkeypatch):
    _write(_dir(tmp_path / "a", "car") / "car.data", "low,low,2,2,small,low,unacc\n")
    _write(_dir(tmp_path / "b", "car") / "car.data", "low,low,2,2,small,low,acc\n" * 2)
    monkeypatch.setenv("SKCONVEX_DATA", str(tmp_path / "a"))
    assert load_tiny("car").target.tolist() == ["unacc"]
    assert load_tiny("car", tmp_path / "b").target.tolist() == ["acc", "acc"]


# --- errors ------------------------------------------------------------------------


def test_unknown_name_lists_valid_names(tmp_path):
    with pytest.raises(ValueError, match="Unknown UCI data set 'iris'") as info:
        load_tiny("iris", tmp_path)
    for name in UCI_DATASETS:
        assert repr(name) in str(info.value)
    assert UCI_DATASETS == ("car", "segmentation", "optdigits", "mfeat", "isolet")


@pytest.mark.parametrize(
    "name, present, missing",
    [
        ("car", [], ["car.data"]),
        ("segmentation", ["segmentation.data"], ["segmentation.test"]),
        ("optdigits", [], ["optdigits.tra", "optdigits.tes"]),
        ("mfeat", [], ["mfeat-fac"]),
        ("isolet", [], ["isolet1+2+3+4.data", "isolet5.data"]),
    ],
)
def test_missing_files_are_named_with_their_directory(tmp_path, name, present, missing):
    directory = _dir(tmp_path, name)
    for filename in present:
        _write(directory / filename, SEG_HEADER + _seg_row("SKY", 1.0) + "\n")
    with pytest.raises(FileNotFoundError) as info:
        load_tiny(name, tmp_path)
    message = str(info.value)
    for filename in missing:
        assert filename in message
    for filename in present:
        assert filename not in message
    assert str(directory.absolute()) in message
    assert "data_home" in message and "SKCONVEX_DATA" in message


def test_missing_data_home_relative_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "rel" / "uci" / "car"))):
        load_tiny("car", "rel")


def test_views_validation(tmp_path):
    with pytest.raises(ValueError, match="Unknown mfeat view"):
        load_tiny("mfeat", tmp_path, views=("fac", "bogus"))
    with pytest.raises(ValueError, match="duplicates"):
        load_tiny("mfeat", tmp_path, views=["fac", "fac"])
    with pytest.raises(ValueError, match="at least one"):
        load_tiny("mfeat", tmp_path, views=())
    with pytest.raises(ValueError, match="'mfeat' only"):
        load_tiny("car", tmp_path, views="all")


# --- car -------------------------------------------------------------------------------

CAR_ROWS = [
    "vhigh,vhigh,2,2,small,low,unacc",
    "low,med,5more,more,big,high,vgood",
    "high,low,3,4,med,med,acc",
    "med,high,4,more,small,high,good",
]


def test_car_one_hot_exact(tmp_path):
    _write(_dir(tmp_path, "car") / "car.data", "\n".join(CAR_ROWS) + "\n\n\n")
    car = load_tiny("car", tmp_path)
    assert isinstance(car, Bunch)
    assert car.feature_names == CAR_FEATURES
    assert car.data.dtype == np.float64 and car.data.shape == (4, 21)
    expected = np.zeros((4, 21))
    for i, row in enumerate(CAR_ROWS):
        attributes = ["buying", "maint", "doors", "persons", "lug_boot", "safety"]
        for attribute, value in zip(attributes, row.split(",")[:6]):
            expected[i, CAR_FEATURES.index(f"{attribute}={value}")] = 1.0
    np.testing.assert_array_equal(car.data, expected)
    np.testing.assert_array_equal(car.data.sum(axis=1), 6.0)
    assert car.target.tolist() == ["unacc", "vgood", "acc", "good"]
    assert car.target.dtype.kind == "U"
    assert car.target_names.tolist() == ["acc", "good", "unacc", "vgood"]
    assert car.frame is None
    assert car.filenames == (str(tmp_path / "uci" / "car" / "car.data"),)
    assert "Rows: 4. Features: 21. Classes: 4" in car.DESCR
    assert "one-hot" in car.DESCR and "Bohanec" in car.DESCR


def test_car_columns_do_not_depend_on_row_order(tmp_path):
    _write(_dir(tmp_path / "a", "car") / "car.data", "\n".join(CAR_ROWS))
    _write(_dir(tmp_path / "b", "car") / "car.data", "\r\n".join(CAR_ROWS[::-1]) + "\r\n")
    a, b = load_tiny("car", tmp_path / "a"), load_tiny("car", tmp_path / "b")
    assert a.feature_names == b.feature_names == CAR_FEATURES
    np.testing.assert_array_equal(a.data, b.data[::-1])
    np.testing.assert_array_equal(a.target, b.target[::-1])


def test_car_return_X_y_and_as_frame(tmp_path):
    _write(_dir(tmp_path, "car") / "car.data", "\n".join(CAR_ROWS) + "\n")
    X, y = load_tiny("car", tmp_path, return_X_y=True)
    assert isinstance(X, np.ndarray) and X.shape == (4, 21)
    assert y.tolist() == ["unacc", "vgood", "acc", "good"]
    bunch = load_tiny("car", tmp_path, as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame) and isinstance(bunch.target, pd.Series)
    assert bunch.data.columns.tolist() == CAR_FEATURES
    assert bunch.target.name == "target" and bunch.target.tolist() == y.tolist()
    assert bunch.frame.columns.tolist() == CAR_FEATURES + ["target"]
    np.testing.assert_array_equal(bunch.frame[CAR_FEATURES].to_numpy(), X)
    Xf, yf = load_tiny("car", tmp_path, return_X_y=True, as_frame=True)
    assert isinstance(Xf, pd.DataFrame) and isinstance(yf, pd.Series)
    assert (Xf.dtypes == np.float64).all()


@pytest.mark.parametrize(
    "row, match",
    [
        ("vhigh,vhigh,2,2,small,low,unacc,extra", "Cannot parse|expected 7 columns"),
        ("vhigh,vhigh,2,2,small,low", "row 3 has an empty or missing value"),
        ("vhigh,vhigh,6,2,small,low,unacc", r"unknown doors value\(s\) \['6'\]"),
        ("vhigh,vhigh,2,2,small,low,v-good", "unknown class value"),
    ],
)
def test_car_bad_rows(tmp_path, row, match):
    _write(_dir(tmp_path, "car") / "car.data", "\n".join([*CAR_ROWS[:2], row]) + "\n")
    with pytest.raises(ValueError, match=match):
        load_tiny("car", tmp_path)


# --- segmentation ----------------------------------------------------------------------


def test_segmentation_both_files_with_headers(tmp_path):
    directory = _dir(tmp_path, "segmentation")
    _write(
        directory / "segmentation.data",
        SEG_HEADER + "\n".join([_seg_row("BRICKFACE", 1.5), _seg_row("SKY", 100.0)]) + "\n",
    )
    _write(
        directory / "segmentation.test",
        SEG_HEADER.replace("15:28:30", "15:42:14")
        + "\n".join([_seg_row("GRASS", -3.25), _seg_row("WINDOW", 0.0), _seg_row("SKY", 7.0)])
        + "\n\n",
    )
    seg = load_tiny("segmentation", tmp_path)
    assert seg.data.shape == (5, 19) and seg.data.dtype == np.float64
    np.testing.assert_array_equal(seg.data[:, 0], [1.5, 100.0, -3.25, 0.0, 7.0])
    np.testing.assert_array_equal(seg.data[0], 1.5 + np.arange(19))
    assert seg.target.tolist() == ["BRICKFACE", "SKY", "GRASS", "WINDOW", "SKY"]
    assert seg.target_names.tolist() == ["BRICKFACE", "GRASS", "SKY", "WINDOW"]
    assert len(seg.feature_names) == 19
    assert seg.feature_names[0] == "REGION-CENTROID-COL" and seg.feature_names[-1] == "HUE-MEAN"
    assert [Path(f).name for f in seg.filenames] == ["segmentation.data", "segmentation.test"]
    assert "segmentation.data (2 rows), segmentation.test (3 rows)" in seg.DESCR


def test_segmentation_without_header_and_bad_header(tmp_path):
    directory = _dir(tmp_path, "segmentation")
    _write(directory / "segmentation.data", _seg_row("PATH", 2.0) + "\n")
    _write(directory / "segmentation.test", _seg_row("CEMENT", 3.0))
    assert load_tiny("segmentation", tmp_path).target.tolist() == ["PATH", "CEMENT"]
    _write(directory / "segmentation.test", "REGION-CENTROID-COL,FOO\n" + _seg_row("SKY", 1.0))
    with pytest.raises(ValueError, match="unexpected attribute names"):
        load_tiny("segmentation", tmp_path)
    _write(directory / "segmentation.test", SEG_HEADER)
    with pytest.raises(ValueError, match="no data rows"):
        load_tiny("segmentation", tmp_path)


# --- optdigits -------------------------------------------------------------------------


def test_optdigits_train_then_test(tmp_path):
    directory = _dir(tmp_path, "optdigits")
    rows = np.arange(4 * 64).reshape(4, 64) % 17
    labels = [3, 0, 9, 3]
    lines = [",".join(map(str, [*row, label])) for row, label in zip(rows, labels)]
    _write(directory / "optdigits.tra", "\n".join(lines[:3]) + "\n")
    _write(directory / "optdigits.tes", lines[3] + "\n\n")
    digits = load_tiny("optdigits", tmp_path)
    assert digits.data.dtype == np.float64 and digits.target.dtype == np.int64
    np.testing.assert_array_equal(digits.data, rows)
    assert digits.target.tolist() == labels
    assert digits.target_names.tolist() == [0, 3, 9]
    assert digits.feature_names[:3] == ["pixel_0_0", "pixel_0_1", "pixel_0_2"]
    assert digits.feature_names[-1] == "pixel_7_7" and len(digits.feature_names) == 64
    _write(directory / "optdigits.tes", lines[3][:-1] + "10\n")
    with pytest.raises(ValueError, match="unknown class value"):
        load_tiny("optdigits", tmp_path)


# --- mfeat -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mfeat_home(tmp_path_factory):
    """All six views, 2000 rows each: X[i, 0] = i, X[i, j] = 1000 * (k + 1) + j for view k."""
    root = tmp_path_factory.mktemp("mfeat_home")
    directory = _dir(root, "mfeat")
    for k, (view, width) in enumerate(_MFEAT_VIEWS.items()):
        tail = "".join(f"{1000 * (k + 1) + j:6d}" for j in range(1, width))
        _write(directory / f"mfeat-{view}", "".join(f"{i:6d}{tail}\n" for i in range(2000)))
    return root


def _expected_view(k: int, width: int) -> np.ndarray:
    block = np.tile(1000.0 * (k + 1) + np.arange(width), (2000, 1))
    block[:, 0] = np.arange(2000)
    return block


def test_mfeat_default_is_fac(mfeat_home):
    mfeat = load_tiny("mfeat", mfeat_home)
    assert mfeat.data.shape == (2000, 216) and mfeat.views == ("fac",)
    np.testing.assert_array_equal(mfeat.data, _expected_view(0, 216))
    np.testing.assert_array_equal(mfeat.target, np.repeat(np.arange(10), 200))
    assert mfeat.target.dtype == np.int64
    assert mfeat.target[199] == 0 and mfeat.target[200] == 1 and mfeat.target[1999] == 9
    assert mfeat.feature_names[0] == "fac_0" and mfeat.feature_names[-1] == "fac_215"


def test_mfeat_views_in_given_order(mfeat_home):
    widths = list(_MFEAT_VIEWS.values())
    everything = load_tiny("mfeat", mfeat_home, views="all")
    assert everything.data.shape == (2000, 649) == (2000, sum(widths))
    assert everything.views == ("fac", "fou", "kar", "mor", "pix", "zer")
    expected = np.hstack([_expected_view(k, w) for k, w in enumerate(widths)])
    np.testing.assert_array_equal(everything.data, expected)
    assert len(everything.feature_names) == 649 and everything.feature_names[216] == "fou_0"

    two = load_tiny("mfeat", mfeat_home, views=["zer", "mor"])
    assert two.data.shape == (2000, 53) and two.views == ("zer", "mor")
    expected = np.hstack([_expected_view(5, 47), _expected_view(3, 6)])
    np.testing.assert_array_equal(two.data, expected)
    assert two.feature_names[:2] == ["zer_0", "zer_1"] and two.feature_names[47] == "mor_0"
    assert [Path(f).name for f in two.filenames] == ["mfeat-zer", "mfeat-mor"]

    X, y = load_tiny("mfeat", mfeat_home, views="mor", return_X_y=True)
    np.testing.assert_array_equal(X, _expected_view(3, 6))


def test_mfeat_rejects_wrong_rows_or_width(tmp_path):
    directory = _dir(tmp_path, "mfeat")
    _write(directory / "mfeat-mor", "1 2 3 4 5 6\n" * 1999)
    with pytest.raises(ValueError, match="expected 2000 rows"):
        load_tiny("mfeat", tmp_path, views="mor")
    _write(directory / "mfeat-mor", "1 2 3 4 5\n" * 2000)
    with pytest.raises(ValueError, match="expected 6 columns"):
        load_tiny("mfeat", tmp_path, views="mor")


# --- isolet -------------------------------------------------------------------------------

ISOLET_TRAIN = np.round(np.linspace(-1, 1, 3 * 617).reshape(3, 617), 4)
ISOLET_TEST = np.round(np.linspace(1, -1, 2 * 617).reshape(2, 617), 4)


def test_isolet_plain_training_and_gzipped_test(tmp_path):
    directory = _dir(tmp_path, "isolet")
    _write(directory / "isolet1+2+3+4.data", _isolet_text(ISOLET_TRAIN, [1, 26, 13]))
    with gzip.open(directory / "isolet5.data.gz", "wt") as f:
        f.write(_isolet_text(ISOLET_TEST, [2, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        isolet = load_tiny("isolet", tmp_path)
    assert isolet.parts == ("isolet1+2+3+4", "isolet5")
    assert [Path(f).name for f in isolet.filenames] == ["isolet1+2+3+4.data", "isolet5.data.gz"]
    assert isolet.data.shape == (5, 617) and isolet.data.dtype == np.float64
    np.testing.assert_array_equal(isolet.data, np.vstack([ISOLET_TRAIN, ISOLET_TEST]))
    assert isolet.target.dtype == np.int64 and isolet.target.tolist() == [1, 26, 13, 2, 1]
    assert isolet.target_names.tolist() == [1, 2, 13, 26]
    assert isolet.feature_names[0] == "f1" and isolet.feature_names[-1] == "f617"


def test_isolet_missing_training_part_warns(tmp_path):
    directory = _dir(tmp_path, "isolet")
    with gzip.open(directory / "isolet5.data.gz", "wt") as f:
        f.write(_isolet_text(ISOLET_TEST, [2, 1]))
    with pytest.warns(UserWarning, match=re.escape("isolet1+2+3+4.data")) as record:
        X, y = load_tiny("isolet", tmp_path, return_X_y=True)
    assert str(directory.absolute()) in str(record[0].message)
    assert record[0].filename == __file__  # points at the caller
    assert X.shape == (2, 617) and y.tolist() == [2, 1]
    # the plain file wins over the gzipped one
    _write(directory / "isolet5.data", _isolet_text(ISOLET_TEST[:1], [7]))
    with pytest.warns(UserWarning, match="training part"):
        isolet = load_tiny("isolet", tmp_path)
    assert isolet.parts == ("isolet5",) and isolet.target.tolist() == [7]


def test_isolet_missing_test_part_warns_and_bad_labels(tmp_path):
    directory = _dir(tmp_path, "isolet")
    _write(directory / "isolet1+2+3+4.data", _isolet_text(ISOLET_TRAIN, [1, 2, 3]))
    with pytest.warns(UserWarning, match=re.escape("test part isolet5.data")):
        assert load_tiny("isolet", tmp_path).parts == ("isolet1+2+3+4",)
    _write(directory / "isolet1+2+3+4.data", _isolet_text(ISOLET_TRAIN, [1, 2, 27]))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="unknown class value"):
        load_tiny("isolet", tmp_path)
    _write(directory / "isolet1+2+3+4.data", _isolet_text(ISOLET_TRAIN, [1, 2, "3.5"]))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="whole numbers"):
        load_tiny("isolet", tmp_path)


# --- the real files ------------------------------------------------------------------------


def _real_home() -> Path:
    env = os.environ.get("SKCONVEX_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def real_home():
    home = _real_home()
    if not (home / "uci").is_dir():
        pytest.skip(f"no real UCI data in {home / 'uci'}")
    return home


def _load_real(home: Path, name: str, **kwargs) -> Bunch:
    if not (home / "uci" / name).is_dir():
        pytest.skip(f"no {name} in {home / 'uci'}")
    return load_uci(name, home, **kwargs)


def test_real_car(real_home):
    car = _load_real(real_home, "car")
    assert car.data.shape == (1728, 21)
    assert "their size and SHA-256 matched the original files" in " ".join(car.DESCR.split())
    assert Counter(car.target.tolist()) == {"unacc": 1210, "acc": 384, "good": 69, "vgood": 65}
    # the 1728 rows cover the attribute space 4 * 4 * 4 * 3 * 3 * 3 exactly once
    assert len(np.unique(car.data, axis=0)) == 1728
    sizes = np.repeat([4, 4, 4, 3, 3, 3], [4, 4, 4, 3, 3, 3])  # categories per attribute
    np.testing.assert_array_equal(car.data.sum(axis=0), 1728 / sizes)


def test_real_segmentation(real_home):
    seg = _load_real(real_home, "segmentation")
    assert seg.data.shape == (2310, 19)
    assert Counter(seg.target.tolist()) == {c: 330 for c in seg.target_names.tolist()}
    assert seg.target_names.tolist() == sorted(
        ["BRICKFACE", "SKY", "FOLIAGE", "CEMENT", "WINDOW", "PATH", "GRASS"]
    )
    assert Counter(seg.target[:210].tolist()) == {c: 30 for c in seg.target_names.tolist()}
    np.testing.assert_array_equal(seg.data[:, 2], 9.0)  # REGION-PIXEL-COUNT
    # every row of segmentation.data occurs again in segmentation.test (as DESCR says)
    test_rows = {tuple(row) for row in seg.data[210:].tolist()}
    assert all(tuple(row) in test_rows for row in seg.data[:210].tolist())
    assert len(np.unique(seg.data, axis=0)) == 2086 and "2086 distinct" in seg.DESCR


def test_real_optdigits(real_home):
    digits = _load_real(real_home, "optdigits")
    assert digits.data.shape == (5620, 64)
    train = [376, 389, 380, 389, 387, 376, 377, 387, 380, 382]
    test = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert np.bincount(digits.target[:3823]).tolist() == train
    assert np.bincount(digits.target[3823:]).tolist() == test
    assert digits.data.min() == 0 and digits.data.max() == 16


def test_real_mfeat(real_home):
    mfeat = _load_real(real_home, "mfeat")
    assert mfeat.data.shape == (2000, 216)
    assert np.bincount(mfeat.target).tolist() == [200] * 10
    every = _load_real(real_home, "mfeat", views="all")
    assert every.data.shape == (2000, 649)
    np.testing.assert_array_equal(every.data[:, :216], mfeat.data)


def test_real_isolet(real_home):
    directory = real_home / "uci" / "isolet"
    if any((directory / f).is_file() for f in ("isolet1+2+3+4.data", "isolet1+2+3+4.data.gz")):
        pytest.skip("the expected shapes below are those of the test part alone")
    with pytest.warns(UserWarning, match=re.escape("isolet1+2+3+4.data")):
        isolet = _load_real(real_home, "isolet")
    assert isolet.parts == ("isolet5",)
    assert isolet.data.shape == (1559, 617)
    assert "their size and SHA-256 matched the original files" in " ".join(isolet.DESCR.split())
    counts = np.bincount(isolet.target, minlength=27)[1:]
    assert counts.tolist() == [60] * 12 + [59] + [60] * 13
    assert isolet.data.min() >= -1 and isolet.data.max() <= 1


# --- hostile files: checksums, truncated and inflating gzip files -------------------------


def _gzip_bomb(path: Path, head: bytes, mebibytes: int) -> None:
    """``head`` then ``mebibytes`` MiB of zeros as a multi-member gzip file (~1 kB per MiB)."""
    zeros = gzip.compress(bytes(1 << 20), mtime=0)
    with open(path, "wb") as f:
        f.write(gzip.compress(head, mtime=0))
        for _ in range(mebibytes):
            f.write(zeros)


def test_edited_value_fails_the_checksum(tmp_path, monkeypatch):
    """A file one value away from the original is refused; the message names it."""
    original = "vhigh,vhigh,2,2,small,low,unacc\n"
    path = _write(_dir(tmp_path, "car") / "car.data", original)
    digest = hashlib.sha256(original.encode()).hexdigest()
    monkeypatch.setitem(_uci._ORIGINALS, "car.data", (len(original), digest))
    car = load_uci("car", tmp_path)
    assert car.target.tolist() == ["unacc"]
    assert "their size and SHA-256 matched the original files" in " ".join(car.DESCR.split())
    _write(path, original.replace("unacc", "vgood"))
    with pytest.raises(ValueError) as info:
        load_uci("car", tmp_path)
    assert str(info.value).startswith(f"{path}: SHA-256 mismatch: expected {digest}")
    assert "verify_checksum=False" in str(info.value)
    unchecked = load_uci("car", tmp_path, verify_checksum=False)
    assert unchecked.target.tolist() == ["vgood"]
    assert "checksums not verified (verify_checksum=False)" in " ".join(unchecked.DESCR.split())
    _write(path, original + original)  # longer than the original: refused unread
    with pytest.raises(ValueError, match=re.escape(f"{path}: too long: {2 * len(original)} bytes")):
        load_uci("car", tmp_path)


def test_edited_real_file_fails_the_checksum(tmp_path, real_home):
    source = real_home / "uci" / "optdigits"
    if not source.is_dir():
        pytest.skip(f"no optdigits in {real_home / 'uci'}")
    directory = _dir(tmp_path, "optdigits")
    (directory / "optdigits.tes").write_bytes((source / "optdigits.tes").read_bytes())
    edited = (source / "optdigits.tra").read_bytes().replace(b"0,1,6,15", b"0,1,6,14", 1)
    (directory / "optdigits.tra").write_bytes(edited)
    with pytest.raises(ValueError, match=re.escape(f"{directory / 'optdigits.tra'}: SHA-256")):
        load_uci("optdigits", tmp_path)
    assert load_uci("optdigits", tmp_path, verify_checksum=False).data.shape == (5620, 64)


def test_truncated_isolet_gz_names_the_file(tmp_path):
    """Not a bare EOFError: a ValueError that names the file, the EOFError as its cause."""
    path = _dir(tmp_path, "isolet") / "isolet5.data.gz"
    path.write_bytes(gzip.compress(_isolet_text(ISOLET_TEST, [2, 1]).encode())[:-30])
    for verify in (True, False):
        with pytest.warns(UserWarning), pytest.raises(ValueError) as info:
            load_uci("isolet", tmp_path, verify_checksum=verify)
        assert str(info.value).startswith(f"{path}: cannot decompress (corrupt or truncated")
        assert isinstance(info.value.__cause__, EOFError)


def test_isolet_gzip_bomb_is_refused_with_bounded_memory(tmp_path):
    """1 MB of isolet5.data.gz that inflates to 1 GiB: refused past the original's 8.1 MB."""
    path = _dir(tmp_path, "isolet") / "isolet5.data.gz"
    _gzip_bomb(path, _isolet_text(ISOLET_TEST, [2, 1]).encode(), mebibytes=1024)
    tracemalloc.start()
    try:
        with pytest.warns(UserWarning), pytest.raises(ValueError) as info:
            load_uci("isolet", tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith(
        f"{path}: too long: the content goes past 8110875 bytes (the size of the original file)"
    )
    assert peak < 2 * 8110875 + (4 << 20), peak  # never near the 1 GiB


def test_unverified_files_are_capped_too(tmp_path, monkeypatch):
    monkeypatch.setattr(_uci, "_UNVERIFIED_LIMIT", 1 << 20)
    path = _dir(tmp_path, "isolet") / "isolet5.data.gz"
    _gzip_bomb(path, b"", mebibytes=64)
    with pytest.warns(UserWarning), pytest.raises(ValueError) as info:
        load_uci("isolet", tmp_path, verify_checksum=False)
    assert str(info.value).startswith(
        f"{path}: too long: the content goes past {1 << 20} bytes (the limit for unverified files)"
    )


def test_binary_segmentation_file_names_the_file(tmp_path):
    directory = _dir(tmp_path, "segmentation")
    _write(directory / "segmentation.data", SEG_HEADER + _seg_row("PATH", 1.0) + "\n")
    (directory / "segmentation.test").write_bytes(b"\xff\xfe\x00garbage")
    path = directory / "segmentation.test"
    with pytest.raises(ValueError, match=re.escape(f"Cannot parse {path}: not a text file")):
        load_tiny("segmentation", tmp_path)


def test_checksum_table_matches_the_readme():
    readme = _real_home() / "README.md"
    if not readme.is_file():
        pytest.skip(f"no {readme}")
    text = readme.read_text()
    for filename, (size, digest) in _uci._ORIGINALS.items():
        row = rf"\| {re.escape(filename)}( \(decompressed\))? \| {size:,} \|.*{digest}"
        assert re.search(row, text), filename
    assert f"| isolet5.data.gz | 2,034,496 | {_uci._GZ_SHA256['isolet5.data']} |" in text
