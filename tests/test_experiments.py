"""The reproduction harness: ``python -m skconvex.experiments LIST | NAME ...``.

Every registered experiment runs once at its ``tiny`` sizes (seconds); those that read
data use the project's ``../shared/data`` when it is there and are skipped otherwise.
"""

from __future__ import annotations

import importlib
import json
import shlex
from pathlib import Path

import pytest

import skconvex.experiments
from skconvex.experiments import (
    EXPERIMENTS,
    Context,
    get_experiment,
    list_experiments,
    run_experiment,
)
from skconvex.experiments.__main__ import main
from skconvex.experiments._registry import _MODULES, _load

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Collected here so the experiments registered by every module get a tiny run each.
_load()
NAMES = sorted(EXPERIMENTS)


def _data_home(name: str) -> Path:
    """The shared data when the experiment reads some (skip when it is not there)."""
    experiment = EXPERIMENTS[name]
    missing = experiment.missing_data(SHARED_DATA)
    if missing:
        pytest.skip(f"{name} needs {', '.join(missing)} under {SHARED_DATA}")
    return SHARED_DATA


def test_registry_is_loaded():
    assert {"cpna-table1", "cpna-table3", "rvsm-digits", "rvsm-mnist"} <= set(EXPERIMENTS)
    for name, experiment in EXPERIMENTS.items():
        assert experiment.name == name
        assert experiment.title and experiment.paper and callable(experiment.run)


def test_public_names():
    """The command line is the interface; from Python, three names. The experiment
    modules export nothing (their helpers serve the tests and benchmarks/)."""
    assert skconvex.experiments.__all__ == ["Context", "list_experiments", "run_experiment"]
    for module in _MODULES:
        assert importlib.import_module(f"skconvex.experiments.{module}").__all__ == [], module


def test_list_experiments_names_the_registry():
    assert list_experiments() == NAMES


def test_run_experiment_records_the_equivalent_command(tmp_path):
    out = tmp_path / "out"
    context = Context(tiny=True, seeds=1, data_home=tmp_path)
    json_path, md_path = run_experiment("cpna-table1", context, out)
    assert (json_path, md_path) == (out / "cpna-table1.json", out / "cpna-table1.md")
    command = json.loads(json_path.read_text())["command"]
    assert command == "python -m skconvex.experiments " + shlex.join(
        ["cpna-table1", "--tiny", "--seeds", "1", "--out", str(out), "--data-home", str(tmp_path)]
    )
    assert command in md_path.read_text()


def test_list_prints_every_name(tmp_path, capsys):
    assert main(["LIST", "--data-home", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, experiment in EXPERIMENTS.items():
        (line,) = [line for line in lines if line.split()[0] == name]
        # An empty data home: whatever reads data says what it needs, the rest is ready.
        if experiment.needs:
            assert f"needs {', '.join(experiment.needs)}" in line
        else:
            assert line.endswith("[ready]")


def test_unknown_name_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-experiment", "--tiny"])
    assert exc.value.code == 2
    assert "unknown experiment 'no-such-experiment'" in capsys.readouterr().err
    with pytest.raises(KeyError, match="cpna-table1"):  # the message lists the known names
        get_experiment("no-such-experiment")


def test_seeds_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["cpna-table1", "--tiny", "--seeds", "0", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "--seeds" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_missing_data_exit_code(tmp_path, capsys):
    needing = [name for name in NAMES if EXPERIMENTS[name].needs]
    name = "rvsm-mnist" if "rvsm-mnist" in needing else needing[0]
    empty = tmp_path / "empty"
    rc = main([name, "--tiny", "--data-home", str(empty), "--out", str(tmp_path / "out")])
    assert rc == 2
    err = capsys.readouterr().err
    assert all(need in err for need in EXPERIMENTS[name].needs) and str(empty) in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileNotFoundError, match=EXPERIMENTS[name].needs[0]):
        run_experiment(name, Context(tiny=True, data_home=empty), tmp_path / "out", "cmd")


def test_context_seeds():
    assert Context().n_seeds(5, 1) == 5
    assert Context(quick=True).n_seeds(5, 1) == 1
    assert Context(tiny=True).n_seeds(5, 2) == 2
    assert Context(seeds=3, quick=True).n_seeds(5, 1) == 3
    assert Context(data_home="data").data_home == Path("data")


def test_seeds_option_is_used(tmp_path, capsys):
    assert main(["cpna-table1", "--tiny", "--seeds", "2", "--out", str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "cpna-table1.json").read_text())
    assert payload["settings"]["seeds"] == 2 and payload["context"]["seeds"] == 2
    assert sorted({r["seed"] for r in payload["records"]}) == [0, 1]
    assert "Seeds: 2." in (tmp_path / "cpna-table1.md").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_tiny_run_writes_json_and_markdown(name, tmp_path, capsys):
    argv = [name, "--tiny", "--out", str(tmp_path / "out"), "--data-home", str(_data_home(name))]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out

    payload = json.loads((tmp_path / "out" / f"{name}.json").read_text())
    assert payload["experiment"] == name
    assert payload["command"] == "python -m skconvex.experiments " + shlex.join(argv)
    assert payload["context"]["tiny"] is True
    assert "seeds" in payload["settings"], "settings must record the seeds (the report prints them)"
    assert payload["wall_seconds"] > 0
    assert payload["paper"], "the paper's numbers"
    assert payload["records"] and all(isinstance(r, dict) for r in payload["records"])
    assert payload["environment"]["torch"] and payload["environment"]["skconvex"]

    md = (tmp_path / "out" / f"{name}.md").read_text()
    assert md.startswith(f"## {EXPERIMENTS[name].title}")
    assert payload["command"] in md
    assert "|---|" in md  # a markdown table
