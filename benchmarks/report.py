"""Assemble docs/benchmarks.md from the markdown sections the benchmarks wrote.

Run:  python benchmarks/report.py   (after any of benchmarks/bench_*.py)
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "consistency", "digits", "cost", "perf",
    "pruning_digits", "pruning_mnist", "pruning_fine_digits", "pruning_fine_mnist",
    "cpna_xor", "cpna_uci",
]
HEADER = """# Benchmarks

Measured on the project's CI-class machine (2 cores, no GPU) unless a section says
otherwise. Every section gives the exact command that produced it; the raw numbers are in
`benchmarks/results/*.json`. A paper's claim that does not hold in our measurement is
reported as measured.

"""


def main() -> None:
    results = HERE / "results"
    names = [n for n in ORDER if (results / f"{n}.md").exists()]
    names += sorted(p.stem for p in results.glob("*.md") if p.stem not in ORDER)
    sections = [(results / f"{n}.md").read_text().strip() + "\n" for n in names]
    out = HERE.parent / "docs" / "benchmarks.md"
    out.write_text(HEADER + "\n".join(sections))
    print(f"wrote {out} ({len(sections)} sections)")


if __name__ == "__main__":
    main()
