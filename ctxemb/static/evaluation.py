"""One evaluation for every static model: word similarity and analogy, side by side and coverage-matched.

Similarity: Spearman's rho between human ratings and the cosine of the two words' vectors, over the pairs a model
covers (both words have a vector). Analogy (Mikolov et al. 2013): ``a : b :: c : ?`` is answered by 3CosAdd,
``argmax_d cos(d, b - a + c)`` over the unit vectors of the first ``restrict_vocab`` words, ``a, b, c``
excluded; the score is accuracy over the covered questions (all four words in the restricted vocabulary). Models
cover different items, so each score comes with its coverage and with a **coverage-matched** score: the same
metric on the items that every model in the comparison covers.

The same numbers as gensim's ``evaluate_word_pairs`` (Spearman) and ``evaluate_word_analogies`` with
``case_insensitive=True`` on a lowercase vocabulary; the files are read here so that bad lines are named.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from gensim.models import KeyedVectors
from gensim.models.fasttext import FastTextKeyedVectors
from scipy.stats import spearmanr

from ..textlines import read_lines
from .report import Evaluation, ScoreRow

logger = logging.getLogger(__name__)

Keys = Literal["lower", "exact", "porter"]
KEYS: tuple[str, ...] = ("lower", "exact", "porter")
TaskKind = Literal["similarity", "analogy"]

# name -> (kind, file in gensim's test data)
BUILTIN_TASKS: dict[str, tuple[TaskKind, str]] = {
    "wordsim353": ("similarity", "wordsim353.tsv"),
    "simlex999": ("similarity", "simlex999.txt"),
    "analogy": ("analogy", "questions-words.txt"),
}


@dataclass(frozen=True)
class Task:
    """An evaluation set: similarity pairs ``(w1, w2, rating)`` or analogy questions ``(a, b, c, d)``.

    Attributes:
        name: short name used in tables.
        kind: ``similarity`` or ``analogy``.
        path: the file it was read from.
        items: the pairs or questions, as written in the file.
        lines: ``(items,)`` the line number of each item, for messages.
    """

    name: str
    kind: TaskKind
    path: Path
    items: tuple[tuple, ...]
    lines: tuple[int, ...]


def load_task(task: str | os.PathLike[str], kind: TaskKind | None = None) -> Task:
    """Read a task: a built-in name (``wordsim353``, ``simlex999``, ``analogy``) or a file.

    A similarity file has one pair per line, ``word1 word2 rating`` separated by tabs (or, when a line has no tab,
    by spaces; extra columns are ignored); lines starting with ``#`` are comments. An analogy file has questions
    ``a b c d`` and section lines ``: name`` (the Google format). ``kind=None`` guesses from the file: analogy if
    it has a section line, similarity otherwise.

    Raises:
        FileNotFoundError: no such file and no such built-in name.
        ValueError: a line with too few fields or a rating that is not a number, or a file with no item, naming
            the file and line.
    """
    name = os.fspath(task)
    if name in BUILTIN_TASKS:
        from gensim.test.utils import datapath

        builtin_kind, filename = BUILTIN_TASKS[name]
        path, kind = Path(datapath(filename)), kind or builtin_kind
    else:
        path = Path(name)
        name = path.stem
        if not path.is_file():
            raise FileNotFoundError(
                f"evaluation file {path} does not exist (built-in tasks: {', '.join(BUILTIN_TASKS)})"
            )
    lines = _read(path)
    if kind is None:
        kind = "analogy" if any(text.startswith(":") for _, text in lines) else "similarity"
    parse = _parse_analogy if kind == "analogy" else _parse_pair
    items, numbers = [], []
    for number, text in lines:
        item = parse(path, number, text)
        if item is not None:
            items.append(item)
            numbers.append(number)
    if not items:
        raise ValueError(f"{path}: no {'question' if kind == 'analogy' else 'word pair'} in the file")
    return Task(name, kind, path, tuple(items), tuple(numbers))


def _read(path: Path) -> list[tuple[int, str]]:
    out = []
    for number, line in read_lines(path):
        text = line.strip()
        if text and not text.startswith("#"):
            out.append((number, text))
    return out


def _parse_pair(path: Path, number: int, text: str) -> tuple[str, str, float]:
    fields = text.split("\t") if "\t" in text else text.split()
    if len(fields) < 3:
        raise ValueError(f"{path}:{number}: expected 'word1 word2 rating', found {len(fields)} field(s): {text[:60]!r}")
    try:
        rating = float(fields[2])
    except ValueError:
        raise ValueError(f"{path}:{number}: the rating {fields[2]!r} is not a number") from None
    return fields[0].strip(), fields[1].strip(), rating


def _parse_analogy(path: Path, number: int, text: str) -> tuple[str, str, str, str] | None:
    if text.startswith(":"):
        return None
    fields = text.split()
    if len(fields) != 4:
        raise ValueError(f"{path}:{number}: expected an analogy 'a b c d', found {len(fields)} word(s): {text!r}")
    return fields[0], fields[1], fields[2], fields[3]


def key_function(keys: Keys) -> Callable[[str], str]:
    """How a word of a task is looked up: as written, lowercased, or lowercased and Porter-stemmed.

    ``porter`` suits vectors trained on stemmed text such as gensim's ``head500.noblanks.cor`` (``capital`` is
    ``capit`` there); two words with one stem then share a vector.
    """
    if keys == "exact":
        return lambda word: word
    if keys == "lower":
        return str.lower
    if keys == "porter":
        from gensim.parsing.porter import PorterStemmer

        stemmer = PorterStemmer()
        return lambda word: stemmer.stem(word.lower())
    raise ValueError(f"unknown keys {keys!r}; choose one of {', '.join(KEYS)}")


def _covered(vectors: KeyedVectors, key: str, restrict_vocab: int) -> bool:
    index = vectors.key_to_index.get(key)
    if index is not None:
        return index < restrict_vocab
    return isinstance(vectors, FastTextKeyedVectors) and key in vectors  # fastText: vectors from n-grams


def pair_similarities(
    vectors: KeyedVectors, task: Task, keys: Keys = "lower", restrict_vocab: int = 300_000
) -> np.ndarray:
    """The cosine of each pair of a similarity task: ``(items,)`` float64, NaN where a word has no vector."""
    key = key_function(keys)
    out = np.full(len(task.items), np.nan)
    for i, (a, b, _) in enumerate(task.items):
        ka, kb = key(a), key(b)
        if _covered(vectors, ka, restrict_vocab) and _covered(vectors, kb, restrict_vocab):
            out[i] = vectors.similarity(ka, kb)
    return out


def analogy_answers(
    vectors: KeyedVectors, task: Task, keys: Keys = "lower", restrict_vocab: int = 300_000, batch: int = 512
) -> np.ndarray:
    """Whether 3CosAdd answers each question: ``(items,)`` float64, 1 or 0, NaN where a word is not covered."""
    key = key_function(keys)
    restrict = min(restrict_vocab, len(vectors.index_to_key))
    unit = vectors.get_normed_vectors()[:restrict]
    index = vectors.key_to_index
    out = np.full(len(task.items), np.nan)
    todo = []
    for i, question in enumerate(task.items):
        word_ids = [index.get(key(w), restrict) for w in question]
        if max(word_ids) < restrict:
            todo.append((i, word_ids))
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        ids = np.array([q for _, q in chunk])
        query = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
        scores = query @ unit.T
        rows = np.arange(len(chunk))[:, None]
        scores[rows, ids[:, :3]] = -np.inf
        out[[i for i, _ in chunk]] = scores.argmax(axis=1) == ids[:, 3]
    return out


def _spearman(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Spearman's rho; 0 when the model gives every pair the same similarity (no ranking, e.g. one-hot)."""
    if len(gold) < 2:
        return math.nan
    if np.ptp(predicted) == 0:
        return 0.0
    return float(spearmanr(gold, predicted).statistic)


def _flatten(models: Mapping[str, KeyedVectors | Mapping[str, KeyedVectors]]) -> dict[str, KeyedVectors]:
    flat: dict[str, KeyedVectors] = {}
    for name, value in models.items():
        if isinstance(value, Mapping):
            flat.update({f"{name}/{layer}": vectors for layer, vectors in value.items()})
        elif isinstance(value, KeyedVectors):
            flat[name] = value
        else:
            raise TypeError(f"model {name!r} is a {type(value).__name__}, not KeyedVectors (or a dict of them)")
    if not flat:
        raise ValueError("no model to evaluate")
    return flat


def evaluate(
    models: Mapping[str, KeyedVectors | Mapping[str, KeyedVectors]],
    tasks: Sequence[str | os.PathLike[str] | Task] = ("wordsim353", "simlex999", "analogy"),
    *,
    keys: Keys = "lower",
    restrict_vocab: int = 300_000,
) -> Evaluation:
    """Score several static models on the same tasks: per model, and coverage-matched.

    Args:
        models: name -> ``KeyedVectors``; a value may itself be a dict (say, :func:`~ctxemb.static.distill`'s
            layers), scored entry by entry as ``name/entry``.
        tasks: built-in names (``wordsim353``, ``simlex999``, ``analogy``), files (see :func:`load_task`) or
            :class:`Task` objects.
        keys: how task words are looked up, see :func:`key_function`.
        restrict_vocab: only the first (most frequent) words of each model count, as in gensim.

    Returns:
        An :class:`~ctxemb.static.report.Evaluation`: one row per model and task with the score (Spearman's rho
        or accuracy), coverage and the coverage-matched score.

    Raises:
        ValueError: a model that covers no item of a task (naming the file, its first line and the model).
    """
    flat = _flatten(models)
    loaded = [t if isinstance(t, Task) else load_task(t) for t in tasks]
    rows: list[ScoreRow] = []
    for task in loaded:
        if task.kind == "similarity":
            per_model = {n: pair_similarities(v, task, keys, restrict_vocab) for n, v in flat.items()}
        else:
            per_model = {n: analogy_answers(v, task, keys, restrict_vocab) for n, v in flat.items()}
        for name, values in per_model.items():
            if np.isnan(values).all():
                raise ValueError(
                    f"{task.path}:{task.lines[0]}: model {name!r} covers none of the {len(task.items)} items of "
                    f"{task.name} (keys={keys!r}; words like {task.items[0][0]!r} have no vector)"
                )
        matched = np.logical_and.reduce([~np.isnan(v) for v in per_model.values()])
        gold = np.array([item[2] for item in task.items]) if task.kind == "similarity" else None
        for name, values in per_model.items():
            covered = ~np.isnan(values)
            if gold is None:
                score, matched_score = float(values[covered].mean()), _mean(values[matched])
            else:
                score = _spearman(gold[covered], values[covered])
                matched_score = _spearman(gold[matched], values[matched])
            rows.append(
                ScoreRow(
                    model=name,
                    task=task.name,
                    metric="accuracy" if gold is None else "spearman",
                    score=score,
                    covered=int(covered.sum()),
                    total=len(task.items),
                    matched_score=matched_score,
                    matched=int(matched.sum()),
                )
            )
        if not matched.any():
            logger.warning("%s: no item is covered by every model; the coverage-matched score is NaN", task.name)
    return Evaluation(rows)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else math.nan
