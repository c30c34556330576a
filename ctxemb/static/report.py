"""The result of :func:`~ctxemb.static.evaluate`: one row per model and task, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..reports import TableReport


@dataclass(frozen=True)
class ScoreRow:
    """One model on one task.

    Attributes:
        model: the model's name.
        task: the task's name.
        metric: ``spearman`` (similarity) or ``accuracy`` (analogy).
        score: the metric over the items this model covers.
        covered: how many items it covers.
        total: items in the task.
        matched_score: the metric over the items every evaluated model covers.
        matched: how many items every model covers.
    """

    model: str
    task: str
    metric: str
    score: float
    covered: int
    total: int
    matched_score: float
    matched: int

    @property
    def coverage(self) -> float:
        """``covered / total``."""
        return self.covered / self.total


class Evaluation(TableReport):
    """Scores of several models on several tasks (see :func:`~ctxemb.static.evaluate`).

    Args:
        rows: one :class:`ScoreRow` per model and task.
    """

    def __init__(self, rows: list[ScoreRow]) -> None:
        self.rows = rows

    @property
    def models(self) -> list[str]:
        """Model names in the order they were given."""
        return list(dict.fromkeys(r.model for r in self.rows))

    @property
    def tasks(self) -> list[str]:
        """Task names in the order they were given."""
        return list(dict.fromkeys(r.task for r in self.rows))

    def row(self, model: str, task: str) -> ScoreRow:
        """The row of ``model`` on ``task``.

        Raises:
            KeyError: no such model or task, listing those there are.
        """
        for r in self.rows:
            if r.model == model and r.task == task:
                return r
        raise KeyError(f"no row for model {model!r} on task {task!r}; models: {self.models}, tasks: {self.tasks}")

    def to_records(self) -> list[dict]:
        """The rows as dictionaries (with ``coverage``); NaN stays NaN."""
        return [{**asdict(r), "coverage": r.coverage} for r in self.rows]

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one line per row (long format) with a header; returns the path."""
        names = [f.name for f in fields(ScoreRow)] + ["coverage"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=names)
            writer.writeheader()
            writer.writerows(self.to_records())
        return Path(path)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str | Path:
        """The rows as a JSON list (NaN written as ``null``): written to ``path`` (and the path returned), or, without
        a path, returned as a string."""
        records = [
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in self.to_records()
        ]
        text = json.dumps(records, indent=1)
        if path is None:
            return text
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n", encoding="utf-8")
        return Path(path)

    def table(self) -> str:
        """A readable wide table: one line per model; per task the score, the coverage and the matched score."""
        tasks = self.tasks
        width = max(len("model"), *(len(m) for m in self.models))
        head1 = " " * width + "".join(f"  {t[:24]:<24}" for t in tasks)
        head2 = f"{'model':<{width}}" + "".join(
            f"  {self.row(self.models[0], t).metric[:8]:>8} {'cover':>6} {'matched':>8}" for t in tasks
        )
        lines = [head1.rstrip(), head2]
        for model in self.models:
            cells = []
            for t in tasks:
                r = self.row(model, t)
                cells.append(f"  {_fmt(r.score):>8} {r.coverage:>6.0%} {_fmt(r.matched_score):>8}")
            lines.append(f"{model:<{width}}" + "".join(cells))
        counts = ", ".join(
            f"{t}: {self.row(self.models[0], t).matched} of {self.row(self.models[0], t).total}" for t in tasks
        )
        lines.append(f"matched = the items every model covers ({counts})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Evaluation(models={self.models}, tasks={self.tasks})"


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text
