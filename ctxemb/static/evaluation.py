"""One evaluation for every static model: word similarity and analogy, side by side and coverage-matched.

Similarity: Spearman's rho between human ratings and the cosine of the two words' vectors, over the pairs a model
covers (both words have a vector). Analogy (Mikolov et al. 2013): ``a : b :: c : ?`` is answered by 3CosAdd,
``argmax_d cos(d, b - a + c)`` over the unit vectors of the first ``restrict_vocab`` words, ``a, b, c``
excluded; the score is accuracy over the covered questions (all four words in the restricted vocabulary). Models
cover different items, so each score comes with its coverage and with a **coverage-matched** score: the same
metric on the items that every model in the comparison covers.

Words are matched the way gensim's ``evaluate_word_pairs`` and ``evaluate_word_analogies`` match them, and the
scores are theirs (tested): ``keys="lower"`` is their ``case_insensitive=True`` (task words *and* the model's first
``restrict_vocab`` keys are compared upper-cased; where a model has several case variants of a word, the first in
its order, the most frequent, stands for all of them), ``keys="exact"`` is ``case_insensitive=False``, and a word
outside a model's vocabulary leaves its item uncovered (``oov="skip"``), fastText models included. The files are
read here so that bad lines are named.
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
from gensim.matutils import unitvec
from gensim.models import KeyedVectors
from gensim.models.fasttext import FastTextKeyedVectors
from scipy.stats import spearmanr

from ..textlines import read_lines
from .report import Evaluation, ScoreRow

logger = logging.getLogger(__name__)

Keys = Literal["lower", "exact", "porter"]
KEYS: tuple[str, ...] = ("lower", "exact", "porter")
Oov = Literal["skip", "ngrams"]
OOVS: tuple[str, ...] = ("skip", "ngrams")
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
    """How a word of a task is spelt for a model: as written, lowercased, or lowercased and Porter-stemmed.

    ``porter`` suits vectors trained on stemmed text such as gensim's ``head500.noblanks.cor`` (``capital`` is
    ``capit`` there); two words with one stem then share a vector. Which model key a spelling finds is
    :func:`vocabulary_rows`' business (case-insensitively for ``lower``).
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


def _folds(keys: Keys) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """``(task word -> match key, model key -> match key)``: ``lower`` upper-cases both sides, as gensim does."""
    if keys == "lower":
        return str.upper, str.upper
    return key_function(keys), lambda key: key


def vocabulary_rows(vectors: KeyedVectors, keys: Keys = "lower", restrict_vocab: int | None = None) -> dict[str, int]:
    """The row each match key finds among a model's first ``restrict_vocab`` keys (all of them for ``None``).

    For ``lower`` every key is upper-cased (gensim's ``case_insensitive=True``), so ``Paris``, ``paris`` and
    ``PARIS`` are one match key, ``PARIS``; it finds the row of the variant that comes first in the model's order
    (its most frequent, in a vocabulary sorted by frequency), as in gensim. For ``exact`` and ``porter`` a key is
    matched as it is written.
    """
    _, fold = _folds(keys)
    keys_in_order = vectors.index_to_key[:restrict_vocab]
    rows: dict[str, int] = {}
    for row, key in enumerate(keys_in_order):
        rows.setdefault(fold(key), row)  # the first variant wins
    return rows


def _check_oov(oov: str) -> None:
    if oov not in OOVS:
        raise ValueError(f"unknown oov {oov!r}; choose one of {', '.join(OOVS)}")


def pair_similarities(
    vectors: KeyedVectors,
    task: Task,
    keys: Keys = "lower",
    restrict_vocab: int = 300_000,
    oov: Oov = "skip",
) -> np.ndarray:
    """The cosine of each pair of a similarity task: ``(items,)`` float64, NaN where a word has no vector.

    A word has a vector when its match key (see :func:`vocabulary_rows`) is among the model's first
    ``restrict_vocab`` keys. With ``oov="ngrams"``, a word that is nowhere in a fastText model's vocabulary also
    has one: the sum of its character n-gram vectors, as ``vectors[word]`` gives it (other models have no
    n-grams, so ``ngrams`` changes nothing for them). ``oov="skip"`` is gensim's ``evaluate_word_pairs``, which
    counts such a word as unknown.
    """
    _check_oov(oov)
    task_fold, _ = _folds(keys)
    spell = key_function(keys)
    rows = vocabulary_rows(vectors, keys)  # the whole vocabulary: a word beyond restrict_vocab is known, not OOV
    ngrams = oov == "ngrams" and isinstance(vectors, FastTextKeyedVectors)

    def vector(word: str) -> np.ndarray | None:
        row = rows.get(task_fold(word))
        if row is not None:
            return unitvec(vectors.vectors[row]) if row < restrict_vocab else None
        spelt = spell(word)
        if ngrams and spelt in vectors:  # no vocabulary row: fastText builds one from n-grams
            return unitvec(vectors.get_vector(spelt))
        return None

    out = np.full(len(task.items), np.nan)
    for i, (a, b, _) in enumerate(task.items):
        va, vb = vector(a), vector(b)
        if va is not None and vb is not None:
            out[i] = float(np.dot(va, vb))  # gensim's similarity: the dot of the unit vectors
    return out


def analogy_answers(
    vectors: KeyedVectors, task: Task, keys: Keys = "lower", restrict_vocab: int = 300_000, batch: int = 512
) -> np.ndarray:
    """Whether 3CosAdd answers each question: ``(items,)`` float64, 1 or 0, NaN where a word is not covered.

    A question is covered when all four match keys (see :func:`vocabulary_rows`) are among the first
    ``restrict_vocab`` keys; the answer is the best row among those, the rows of ``a``, ``b`` and ``c`` (every
    case variant of them, for ``lower``) excluded, and it is right when its match key is ``d``'s. gensim looks at
    its five best rows for the first that is not a variant of ``a``, ``b`` or ``c``; the two differ only where
    five variants of the question's words outrank every other word. Words with only n-gram vectors never count:
    an answer has to be a row.
    """
    task_fold, _ = _folds(keys)
    restrict = min(restrict_vocab, len(vectors.index_to_key))
    unit = vectors.get_normed_vectors()[:restrict]
    rows = vocabulary_rows(vectors, keys, restrict)
    _, fold = _folds(keys)
    first = np.array([rows[fold(key)] for key in vectors.index_to_key[:restrict]])  # each row's first variant
    variants = not np.array_equal(first, np.arange(restrict))
    out = np.full(len(task.items), np.nan)
    todo = []
    for i, question in enumerate(task.items):
        word_ids = [rows.get(task_fold(w), -1) for w in question]
        if min(word_ids) >= 0:
            todo.append((i, word_ids))
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        ids = np.array([q for _, q in chunk])
        query = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
        scores = query @ unit.T
        if variants:  # every case variant of a, b and c is excluded, as gensim's answer check does
            excluded = (
                (first[None, :] == ids[:, 0:1]) | (first[None, :] == ids[:, 1:2]) | (first[None, :] == ids[:, 2:3])
            )
            scores[excluded] = -np.inf
        else:
            scores[np.arange(len(chunk))[:, None], ids[:, :3]] = -np.inf
        out[[i for i, _ in chunk]] = first[scores.argmax(axis=1)] == ids[:, 3]
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
    oov: Oov = "skip",
) -> Evaluation:
    """Score several static models on the same tasks: per model, and coverage-matched.

    Args:
        models: name -> ``KeyedVectors``; a value may itself be a dict (say, :func:`~ctxemb.static.distill`'s
            layers), scored entry by entry as ``name/entry``.
        tasks: built-in names (``wordsim353``, ``simlex999``, ``analogy``), files (see :func:`load_task`) or
            :class:`Task` objects.
        keys: how task words find a model's keys: ``lower`` (case-insensitive, gensim's
            ``case_insensitive=True``: see :func:`vocabulary_rows`), ``exact``, or ``porter`` (lowercased and
            Porter-stemmed, for vectors trained on stemmed text; see :func:`key_function`).
        restrict_vocab: only the first (most frequent) words of each model count, as in gensim.
        oov: a similarity pair with a word outside a model's vocabulary is not covered (``skip``, gensim's
            ``evaluate_word_pairs``), or, for a fastText model, ``ngrams`` builds that word's vector from its
            character n-grams (see :func:`pair_similarities`). Analogies always need every word in the vocabulary.

    Returns:
        An :class:`~ctxemb.static.report.Evaluation`: one row per model and task with the score (Spearman's rho
        or accuracy), coverage and the coverage-matched score.

    Raises:
        ValueError: a model that covers no item of a task (naming the file, its first line and the model), or an
            unknown ``keys`` or ``oov``.
    """
    key_function(keys)  # an unknown spelling fails here, before any model is scored
    _check_oov(oov)
    flat = _flatten(models)
    loaded = [t if isinstance(t, Task) else load_task(t) for t in tasks]
    rows: list[ScoreRow] = []
    for task in loaded:
        if task.kind == "similarity":
            per_model = {n: pair_similarities(v, task, keys, restrict_vocab, oov) for n, v in flat.items()}
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
