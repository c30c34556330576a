"""Learning a subword vocabulary with a `tokenizers` trainer: streamed, checked and deterministic.

The trainers of `tokenizers` are deterministic except in two places, both handled here:

- BPE and WordPiece create the continuing-subword pieces (``##a``, ``a</w>``) in hash-map order while reading the
  word counts, and those ids break ties between equally frequent merges (huggingface/tokenizers#1794). Here the
  corpus is read once beforehand by the same trainer asked for no merge, whose vocabulary is then exactly the
  alphabet and those pieces; they are registered with the real trainer in sorted order (and removed from the
  added tokens afterwards: they stay ordinary vocabulary). With ``limit_alphabet`` that first pass is done in
  Python instead, keeping the most frequent characters with ties broken by the character (the trainer breaks
  them in hash-map order).
  A one-pass iterator (a generator, an open file) is spooled to a temporary file during that pass, so that
  nothing is ever held in memory as one list.
- Unigram appends the characters it must keep with scores in hash-map order, and its parallel EM leaves scores
  that differ in their last bits; :func:`canonical_unigram` fixes both.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer, pre_tokenizers, trainers

from ..words import check_unicode

logger = logging.getLogger(__name__)

BYTE_ALPHABET = tuple(pre_tokenizers.ByteLevel.alphabet())
#: The pieces a byte-fallback BPE (Llama, Gemma) spells an unknown character with: ``<0x00>`` ... ``<0xFF>``.
BYTE_PIECES = tuple(f"<0x{b:02X}>" for b in range(256))


@dataclass(frozen=True)
class Options:
    """What every trainer is told: the ``train_tokenizer`` options, checked."""

    vocab_size: int
    min_frequency: int = 2
    limit_alphabet: int | None = None
    show_progress: bool = False


@dataclass
class _Scan:
    """What one pass over the corpus found: ``texts`` read, ``words`` seen, the alphabet and the affixed pieces."""

    texts: int = 0
    words: int = 0
    alphabet: tuple[str, ...] = ()
    affixed: tuple[str, ...] = ()


def learn(
    backend: Tokenizer,
    texts: Iterable[str],
    kind: str,
    specials: Sequence[str],
    options: Options,
    transform: Callable[[str], str] | None = None,
) -> Tokenizer:
    """Train ``backend``'s model on ``texts`` under its normalizer and pre-tokenizer.

    Args:
        backend: an untrained tokenizer whose model matches ``kind`` (for BPE: ``end_of_word_suffix="</w>"``).
        texts: any iterable of strings, read as a stream.
        kind: ``wordpiece | bpe | byte_bpe | byte_fallback_bpe | unigram``.
        specials: the special tokens, which take the first ids in this order.
        options: vocabulary size and trainer options.
        transform: applied to every text before training (XLM's Moses tokenization).

    Returns:
        A new tokenizer with the learned model, the backend's pipeline and ``specials`` as its only added tokens.

    Raises:
        TypeError: ``texts`` is one string, or holds something that is not a string.
        ValueError: an empty corpus, or ``vocab_size`` too small for the specials plus the alphabet.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of texts (a list, a generator over a file), not one string")
    specials = list(dict.fromkeys(specials))
    common: dict[str, Any] = {"vocab_size": options.vocab_size, "show_progress": options.show_progress}
    trainer: trainers.Trainer
    if kind in ("wordpiece", "bpe"):
        with tempfile.TemporaryDirectory(prefix="ctxemb-tok-") as tmp:
            spool = Path(tmp) / "texts.jsonl" if transform is not None or isinstance(texts, Iterator) else None
            if options.limit_alphabet is None:
                scan = _probe(texts, backend, kind, transform, spool)
            else:  # the trainer would break ties in character counts in hash-map order
                scan = _scan(texts, backend, kind, options.limit_alphabet, transform, spool)
            _check_nonempty(scan.texts, scan.words)
            pinned = [p for p in (*scan.alphabet, *scan.affixed) if p not in specials]
            _check_size(options.vocab_size, specials, len(scan.alphabet), len(pinned) - len(scan.alphabet), kind)
            rest: dict[str, Any] = {"min_frequency": options.min_frequency, "special_tokens": [*specials, *pinned]}
            # limit_alphabet=0: the trainer adds no character of its own; the alphabet is exactly the pinned one.
            if kind == "wordpiece":
                trainer = trainers.WordPieceTrainer(**common, **rest, limit_alphabet=0)
            else:
                trainer = trainers.BpeTrainer(**common, **rest, limit_alphabet=0, end_of_word_suffix="</w>")
            source = _read_spool(spool) if spool is not None else texts
            backend.train_from_iterator(source, trainer, length=scan.texts)
        return _rebuilt(backend, specials, kind)
    if kind == "byte_bpe":
        _check_size(options.vocab_size, specials, len(BYTE_ALPHABET), 0, kind)
        rest = {"min_frequency": options.min_frequency, "special_tokens": specials}
        trainer = trainers.BpeTrainer(**common, **rest, initial_alphabet=list(BYTE_ALPHABET))
        if options.limit_alphabet is not None:
            logger.warning("limit_alphabet is ignored for byte-level BPE: its alphabet is the 256 bytes")
    elif kind == "byte_fallback_bpe":
        # The 256 byte pieces follow the specials, as in Llama's vocabulary (ids 3..258): registered as special
        # tokens of the trainer so that they take those ids, then kept as ordinary vocabulary by _rebuilt.
        pieces = [p for p in BYTE_PIECES if p not in specials]
        _check_size(options.vocab_size, [*specials, *pieces], 0, 0, kind)
        rest = {"min_frequency": options.min_frequency, "special_tokens": [*specials, *pieces]}
        trainer = trainers.BpeTrainer(**common, **rest)
    else:
        unk = next((t for t in specials if "unk" in t.lower()), None)
        trainer = trainers.UnigramTrainer(**common, special_tokens=specials, unk_token=unk)
    counter = _Counting(texts, transform)
    try:
        backend.train_from_iterator(counter, trainer)
    except Exception as error:
        if "not large enough" not in str(error):
            raise
        raise ValueError(
            f"vocab_size {options.vocab_size} is smaller than the {len(specials)} special tokens plus the characters "
            f"of the corpus ({error})"
        ) from None
    _check_nonempty(counter.count, counter.nonblank)
    return _rebuilt(backend, specials, kind)


def _check_nonempty(texts: int, words: int) -> None:
    if texts == 0:
        raise ValueError("the corpus is empty: no text to train on")
    if words == 0:
        raise ValueError(f"the corpus has no words to train on ({texts} texts, all blank)")


def _check_size(vocab_size: int, specials: Sequence[str], alphabet: int, affixed: int, kind: str) -> None:
    needed = len(specials) + alphabet + affixed
    if vocab_size < needed:
        what = "word-internal pieces (##a, ...)" if kind == "wordpiece" else "word-final pieces (a</w>, ...)"
        pieces = f" and {affixed} {what}" if affixed else ""
        raise ValueError(
            f"vocab_size {vocab_size} is smaller than the {len(specials)} special tokens plus the {alphabet} "
            f"characters of the alphabet{pieces}: at least {needed} are needed"
        )


def _scan(
    texts: Iterable[str],
    backend: Tokenizer,
    kind: str,
    limit_alphabet: int | None,
    transform: Callable[[str], str] | None,
    spool: Path | None,
) -> _Scan:
    """Read the corpus once: count texts and words, collect the alphabet and the pieces the trainer will affix."""
    chars: Counter[str] = Counter()
    affixed: set[str] = set()
    scan = _Scan()
    out = spool.open("w", encoding="utf-8") if spool is not None else None
    try:
        for text in _Counting(texts, transform):
            if out is not None:
                out.write(json.dumps(text, ensure_ascii=False) + "\n")
            normalized = backend.normalizer.normalize_str(text) if backend.normalizer is not None else text
            words = backend.pre_tokenizer.pre_tokenize_str(normalized) if backend.pre_tokenizer else [(normalized,)]
            for word, *_ in words:
                if not word:
                    continue
                scan.words += 1
                chars.update(word)
                if kind == "wordpiece":
                    affixed.update(word[1:])
                else:
                    affixed.add(word[-1])
            scan.texts += 1
    finally:
        if out is not None:
            out.close()
    kept = sorted(chars, key=lambda c: (-chars[c], c))[:limit_alphabet] if limit_alphabet is not None else chars
    scan.alphabet = tuple(sorted(kept))
    keep = set(kept)
    scan.affixed = tuple(("##" + c) if kind == "wordpiece" else (c + "</w>") for c in sorted(affixed & keep))
    return scan


def _probe(
    texts: Iterable[str],
    backend: Tokenizer,
    kind: str,
    transform: Callable[[str], str] | None,
    spool: Path | None,
) -> _Scan:
    """Read the corpus once with the trainer itself, asked for no merge: its vocabulary is the alphabet and the
    affixed pieces (in hash-map order, sorted here). ``words`` is only 0 (no word) or 1 (some)."""
    probe = Tokenizer.from_str(backend.to_str())
    trainer: trainers.Trainer
    if kind == "wordpiece":
        trainer = trainers.WordPieceTrainer(vocab_size=1, show_progress=False)
    else:
        trainer = trainers.BpeTrainer(vocab_size=1, show_progress=False, end_of_word_suffix="</w>")
    counter = _Counting(texts, transform)
    out = spool.open("w", encoding="utf-8") if spool is not None else None

    def spooled() -> Iterator[str]:
        for text in counter:
            if out is not None:
                out.write(json.dumps(text, ensure_ascii=False) + "\n")
            yield text

    try:
        probe.train_from_iterator(spooled(), trainer)
    finally:
        if out is not None:
            out.close()
    pieces = probe.get_vocab()
    alphabet = tuple(sorted(p for p in pieces if len(p) == 1))
    affixed = tuple(sorted(p for p in pieces if len(p) > 1))
    return _Scan(texts=counter.count, words=int(bool(pieces)), alphabet=alphabet, affixed=affixed)


def _read_spool(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _rebuilt(backend: Tokenizer, specials: Sequence[str], kind: str) -> Tokenizer:
    """The trained tokenizer with only ``specials`` as added tokens and, for Unigram, a canonical vocabulary."""
    data = json.loads(backend.to_str())
    data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] in specials]
    if kind == "unigram":
        data["model"]["vocab"] = [list(v) for v in canonical_unigram(data["model"]["vocab"], len(specials))]
    return Tokenizer.from_str(json.dumps(data))


def canonical_unigram(vocab: Sequence[Sequence[Any]], n_specials: int) -> list[tuple[str, float]]:
    """Make a trained Unigram vocabulary independent of hash-map order and thread timing.

    The trainer gives the characters it must keep but did not learn a ladder of scores 1e-4 apart at the bottom of
    the vocabulary, handed out in hash-map order, and its parallel EM leaves scores that differ in their last bits.
    Here the ladder (the single characters upwards from the lowest one, while each is at most 1e-4 above the
    previous) gets the same scores in sorted character order, scores are rounded to 1e-6, and the pieces after the
    specials are sorted by ``(-score, piece)``.

    Args:
        vocab: ``[piece, score]`` pairs as the trainer wrote them (the specials first).
        n_specials: how many entries at the start are special tokens (kept in place).
    """
    head = [(str(p), float(s)) for p, s in vocab[:n_specials]]
    body = {str(p): float(s) for p, s in vocab[n_specials:]}
    ladder: list[tuple[float, str]] = []
    for score, piece in sorted((s, p) for p, s in body.items() if len(p) == 1):
        if ladder and score - ladder[-1][0] > 1e-4 + 1e-9:
            break
        ladder.append((score, piece))
    body.update(zip(sorted(p for _, p in ladder), sorted((s for s, _ in ladder), reverse=True)))
    rounded = [(p, round(s, 6)) for p, s in body.items()]
    return head + sorted(rounded, key=lambda item: (-item[1], item[0]))


class _Counting:
    """Iterate over texts (transformed if asked), counting them and checking that each is a string."""

    def __init__(self, texts: Iterable[str], transform: Callable[[str], str] | None = None) -> None:
        self.source = texts
        self.transform = transform
        self.count = 0
        self.nonblank = 0

    def __iter__(self) -> Iterator[str]:
        for text in self.source:
            if not isinstance(text, str):
                raise TypeError(f"texts[{self.count}] is a {type(text).__name__}, not a string")
            check_unicode(text, f"texts[{self.count}]")
            self.count += 1
            if self.transform is not None:
                text = self.transform(text)
            if text.strip():
                self.nonblank += 1
            yield text
