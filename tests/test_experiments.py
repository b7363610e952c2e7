"""The reproduction harness: ``python -m skconvex.experiments LIST | NAME ...``.

Every registered experiment runs once at its ``tiny`` sizes (seconds); those that read
data use the project's ``../shared/data`` when it is there and are skipped otherwise.
"""

from __future__ import annotations

import importlib
import json
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

import skconvex.experiments
from skconvex.experiments import (
    EXPERIMENTS,
    Context,
    Experiment,
    Result,
    get_experiment,
    list_experiments,
    run_experiment,
)
from skconvex.experiments.__main__ import main
from skconvex.experiments._registry import _MODULES, _load
from skconvex.experiments._report import md_table

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


# --- the harness keeps finished work: --out checked first, partial results, no overwrite ---


FAKE = "fake-experiment"


def _square(x: int) -> dict:
    if x == 3:
        raise RuntimeError("diverged at x=3")
    return {"x": x, "square": x * x}


@pytest.fixture
def fake(monkeypatch):
    """A registered experiment that maps ``fake.fn`` over ``fake.inputs`` by ``Context.map``;
    ``fake.runs`` lists the contexts it ran with."""
    spec = SimpleNamespace(fn=_square, inputs=[0, 1, 2], runs=[])

    def run(ctx: Context) -> Result:
        spec.runs.append(ctx)
        records = ctx.map(spec.fn, [(x,) for x in spec.inputs])
        rows = [[r["x"], r["square"]] for r in records]
        return Result(table=md_table(["x", "square"], rows), records=records,
                      settings={"seeds": 1}, paper={"x": 0})  # fmt: skip

    monkeypatch.setitem(EXPERIMENTS, FAKE, Experiment(FAKE, "A fake", "No paper", run))
    return spec


def _main(tmp_path, *extra):
    return main([FAKE, "--tiny", "--data-home", str(tmp_path), *extra])


def test_unwritable_out_is_refused_before_the_run(tmp_path, fake, capsys):
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "results"  # cannot be created, even by root
    assert _main(tmp_path, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: [Errno 20] cannot write the results to " + str(out))
    assert "choose another --out (nothing was run)" in err and "Traceback" not in err
    assert fake.runs == []  # the experiment never ran
    with pytest.raises(NotADirectoryError, match="cannot write the results to"):
        run_experiment(FAKE, Context(tiny=True, data_home=tmp_path), out)
    assert fake.runs == []


def test_existing_results_are_kept_without_force(tmp_path, fake, capsys):
    out = tmp_path / "out"
    assert _main(tmp_path, "--out", str(out)) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(first) == [f"{FAKE}.json", f"{FAKE}.md"]  # the partial file is gone
    capsys.readouterr()
    assert _main(tmp_path, "--out", str(out), "--seeds", "2") == 2
    err = capsys.readouterr().err
    assert f"error: {out / FAKE}.json, {out / FAKE}.md already exist(s); pass --force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first and len(fake.runs) == 1
    with pytest.raises(FileExistsError, match="already exist"):
        run_experiment(FAKE, Context(tiny=True, data_home=tmp_path), out)
    assert _main(tmp_path, "--out", str(out), "--seeds", "2", "--force") == 0
    assert json.loads((out / f"{FAKE}.json").read_text())["context"]["seeds"] == 2


def test_partial_results_are_written_as_they_arrive(tmp_path, fake):
    """A run that fails at its fourth result keeps the first three in NAME.partial.jsonl;
    the file held each of them before the failure."""
    out = tmp_path / "out"
    partial = out / f"{FAKE}.partial.jsonl"
    seen = []

    def square_and_look(x):
        seen.append(len(partial.read_text().splitlines()))  # header + results so far
        return _square(x)

    fake.fn, fake.inputs = square_and_look, [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="diverged at x=3"):
        _main(tmp_path, "--out", str(out))
    assert seen == [1, 2, 3, 4]
    lines = [json.loads(line) for line in partial.read_text().splitlines()]
    assert lines[0]["experiment"] == FAKE and lines[0]["status"] == "running"
    assert lines[0]["command"].startswith(f"python -m skconvex.experiments {FAKE} --tiny")
    assert [line["result"] for line in lines[1:4]] == [
        {"x": x, "square": x * x} for x in (0, 1, 2)
    ]
    assert lines[4] == {"status": "failed", "error": "RuntimeError: diverged at x=3"}
    assert not (out / f"{FAKE}.json").exists()
    # the unfinished run's partial file is kept too, until --force
    with pytest.raises(FileExistsError, match="partial.jsonl already exist"):
        run_experiment(FAKE, Context(tiny=True, data_home=tmp_path), out)


def test_interrupted_run_says_so(tmp_path, fake):
    def interrupt(x):
        raise KeyboardInterrupt

    fake.fn = interrupt
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(FAKE, Context(tiny=True, data_home=tmp_path), out)
    last = json.loads((out / f"{FAKE}.partial.jsonl").read_text().splitlines()[-1])
    assert last == {"status": "interrupted", "error": "KeyboardInterrupt: "}


@pytest.mark.parametrize("value", ["0", "zero"])
def test_n_jobs_must_be_a_nonzero_int(tmp_path, fake, capsys, value):
    with pytest.raises(SystemExit) as exc:
        _main(tmp_path, "--out", str(tmp_path / "out"), "--n-jobs", value)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --n-jobs: must be a positive number of workers" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists() and fake.runs == []
    with pytest.raises(ValueError, match="n_jobs must be a positive number of workers"):
        Context(n_jobs=0)
    with pytest.raises(ValueError, match="seeds must be None or a positive int"):
        Context(seeds=0)


def test_context_map_in_workers_keeps_task_order():
    """Two workers (threads here: no process start-up in the test suite)."""
    from joblib import parallel_config

    seen = []
    context = Context(n_jobs=2, on_result=seen.append)
    with parallel_config(backend="threading"):
        assert context.map(pow, [(2, k) for k in range(6)]) == [1, 2, 4, 8, 16, 32]
    assert seen == [1, 2, 4, 8, 16, 32]


@pytest.mark.parametrize("name", NAMES)
def test_every_experiment_streams_its_finished_tasks(name):
    """Each finished task reaches Context.on_result (the partial results file) during the run."""
    seen = []
    context = Context(tiny=True, data_home=_data_home(name), on_result=seen.append)
    result = EXPERIMENTS[name].run(context)
    assert seen, f"{name} streamed nothing to on_result"
    assert result.records
