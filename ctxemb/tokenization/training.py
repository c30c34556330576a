"""Training WordPiece, BPE, byte-level BPE and Unigram vocabularies with `tokenizers`, for any model family.

With a ``family``, the vocabulary is trained through that family's own tokenizer pipeline: the family's
transformers tokenizer class is built empty, its normalizer and pre-tokenizer are kept, a model of the family's
kind is trained under them, and the class is built again from the learned vocabulary (and merges). transformers 5
rebuilds these classes from their vocabulary on load, so this is the only way to get a tokenizer that
``AutoTokenizer`` loads back with identical ids, offsets and ``word_ids``. XLM's tokenizer is Python-only (Moses +
BPE with ``</w>``): its BPE is trained on Moses-tokenized, lowercased, accent-stripped words and written as
``vocab.json`` + ``merges.txt``. Without a family, the result is a ``PreTrainedTokenizerFast`` around the trained
pipeline with ``[CLS] text [SEP]`` specials.

Training streams ``texts`` once. When ``texts`` is a re-iterable collection (a list, a ``datasets`` column) it is
read once more first to collect the alphabet, which is registered in sorted order so that two runs give the
same vocabulary (the trainers otherwise create it in hash-map order: huggingface/tokenizers#1794).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Collection, Iterable, Iterator
from typing import Any, Literal

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from ..families import FAMILIES, Family

logger = logging.getLogger(__name__)

Kind = Literal["wordpiece", "bpe", "byte_bpe", "unigram"]
KINDS: tuple[str, ...] = ("wordpiece", "bpe", "byte_bpe", "unigram")
_GENERIC_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_XLM_SPECIALS = ("<s>", "</s>", "<pad>", "<unk>", *(f"<special{i}>" for i in range(10)))
#: How each family tokenizer class lowercases: the keyword that switches it, or what it always does.
_LOWERCASE: dict[str, str | bool] = {
    "BertTokenizer": "do_lower_case",
    "AlbertTokenizer": "do_lower_case",
    "DebertaV2Tokenizer": "do_lower_case",
    "XLNetTokenizer": "do_lower_case",
    "XLMTokenizer": "do_lowercase_and_remove_accent",
    "OpenAIGPTTokenizer": True,
    "RobertaTokenizer": False,
    "GPT2Tokenizer": False,
}


def family_named(name: str) -> Family:
    """The family table entry called ``name`` (``"bert"``, ``"xlnet"``, ...).

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    for family in FAMILIES:
        if family.name == name:
            return family
    known = ", ".join(f.name for f in FAMILIES)
    raise ValueError(f"unknown family {name!r}; choose one of {known}")


def train_tokenizer(
    texts: Iterable[str],
    kind: Kind | None = None,
    vocab_size: int = 8000,
    *,
    family: str | None = None,
    min_frequency: int = 2,
    lowercase: bool | None = None,
    special_tokens: Iterable[str] = (),
    limit_alphabet: int | None = None,
    show_progress: bool = False,
) -> Any:
    """Train a subword vocabulary on ``texts`` and return a transformers tokenizer.

    Args:
        texts: any iterable of strings (a list, a generator over a file, a ``datasets`` column), streamed.
        kind: ``wordpiece | bpe | byte_bpe | unigram``; defaults to the family's own kind.
        vocab_size: the size of the vocabulary, special tokens included.
        family: ``bert | roberta | albert | deberta | xlnet | xlm | gpt2 | openai-gpt``: its special tokens, their
            placement, padding side, normalisation and pre-tokenisation, and its tokenizer class.
        min_frequency: how often a merge (BPE, WordPiece) must occur to be learned.
        lowercase: lowercase the text; ``None`` keeps the family's default (without a family: ``False``).
        special_tokens: extra special tokens, added after the family's own (without a family, after
            ``[PAD] [UNK] [CLS] [SEP] [MASK]``).
        limit_alphabet: keep at most this many initial characters (BPE and WordPiece only).
        show_progress: show the trainer's progress bar.

    Returns:
        A tokenizer that ``save_pretrained`` writes and ``AutoTokenizer.from_pretrained`` loads back identically.

    Raises:
        ValueError: an unknown kind or family, a kind the family's tokenizer cannot hold, a lowercase setting the
            family's tokenizer cannot keep, ``vocab_size`` too small for the specials and alphabet, or an empty corpus.
    """
    spec = family_named(family) if family is not None else None
    if spec is not None and spec.subwords is None:
        raise ValueError(f"family {family!r} has no tokenizer to train")
    kind = kind or (spec.subwords if spec is not None else None)
    if kind not in KINDS:
        raise ValueError(f"unknown tokenizer kind {kind!r}; choose one of {', '.join(KINDS)}")
    if spec is not None and kind != spec.subwords:
        raise ValueError(f"{spec.tokenizer_class} ({family}) holds a {spec.subwords} vocabulary, not {kind}")
    if limit_alphabet is not None and kind == "unigram":
        raise ValueError("limit_alphabet applies to BPE and WordPiece; the Unigram trainer has no such option")
    extra = [str(t) for t in special_tokens]
    options = {"vocab_size": vocab_size, "min_frequency": min_frequency, "limit_alphabet": limit_alphabet}
    if spec is None:
        return _train_generic(texts, kind, bool(lowercase), extra, options, show_progress)
    cls, kwargs = _family_class(spec, lowercase)
    if spec.tokenizer_class == "XLMTokenizer":
        return _train_xlm(texts, cls, kwargs, extra, options, show_progress)
    blank = cls(**kwargs)
    backend = _untrained(kind)
    backend.normalizer = blank.backend_tokenizer.normalizer
    backend.pre_tokenizer = blank.backend_tokenizer.pre_tokenizer
    vocab = blank.backend_tokenizer.get_vocab(with_added_tokens=True)
    specials = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    trained = _train(backend, texts, kind, [*specials, *extra], options, show_progress)
    learned = json.loads(trained.to_str())["model"]
    if kind == "unigram":
        kwargs["vocab"] = [tuple(entry) for entry in _canonical_unigram(learned["vocab"], len(specials) + len(extra))]
    else:
        kwargs["vocab"] = learned["vocab"]
        if kind != "wordpiece":
            kwargs["merges"] = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in learned["merges"]]
    tokenizer = cls(**kwargs)
    if extra:
        tokenizer.add_special_tokens({"additional_special_tokens": extra})
    tokenizer.padding_side = spec.padding_side
    return tokenizer


def _family_class(spec: Family, lowercase: bool | None) -> tuple[type, dict[str, Any]]:
    import transformers

    cls = getattr(transformers, spec.tokenizer_class)
    kwargs: dict[str, Any] = {}
    rule = _LOWERCASE[spec.tokenizer_class]
    if lowercase is not None and isinstance(rule, str):
        kwargs[rule] = lowercase
    elif lowercase is not None and lowercase != rule:
        raise ValueError(
            f"{spec.tokenizer_class} ({spec.name}) always {'lowercases' if rule else 'keeps case'}; transformers "
            "rebuilds its pipeline on load, so another setting would not survive saving"
        )
    return cls, kwargs


def _untrained(kind: str) -> Tokenizer:
    if kind == "wordpiece":
        return Tokenizer(models.WordPiece(unk_token="[UNK]"))
    if kind == "unigram":
        return Tokenizer(models.Unigram())
    return Tokenizer(models.BPE(end_of_word_suffix="</w>") if kind == "bpe" else models.BPE())


def _train(
    backend: Tokenizer,
    texts: Iterable[str],
    kind: str,
    specials: list[str],
    options: dict[str, Any],
    show_progress: bool,
) -> Tokenizer:
    """Train ``backend``'s model in place on ``texts``; returns ``backend``."""
    texts = _checked(texts)
    pinned: list[str] = []
    if isinstance(texts, Collection) and kind in ("wordpiece", "bpe"):
        alphabet = _alphabet(backend, texts)
        pinned = alphabet + [("##" + c) if kind == "wordpiece" else (c + "</w>") for c in alphabet]
    unk = next((t for t in specials if "unk" in t.lower()), None)
    common = {"vocab_size": options["vocab_size"], "show_progress": show_progress}
    if kind == "unigram":
        trainer = trainers.UnigramTrainer(special_tokens=specials, unk_token=unk, **common)
    else:
        rest = {"min_frequency": options["min_frequency"], "special_tokens": specials + pinned}
        if options["limit_alphabet"] is not None:
            rest["limit_alphabet"] = options["limit_alphabet"]
        if kind == "wordpiece":
            trainer = trainers.WordPieceTrainer(**common, **rest)
        elif kind == "bpe":
            trainer = trainers.BpeTrainer(end_of_word_suffix="</w>", **common, **rest)
        else:
            trainer = trainers.BpeTrainer(initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), **common, **rest)
    counter = _Counting(texts)
    backend.train_from_iterator(counter, trainer)
    if counter.seen == 0:
        raise ValueError("the corpus is empty: no text to train on")
    size = backend.get_vocab_size(with_added_tokens=True)
    needed = len(specials) + len(pinned)
    if options["vocab_size"] < needed or (kind == "unigram" and size < min(options["vocab_size"], len(specials) + 2)):
        raise ValueError(
            f"vocab_size {options['vocab_size']} is smaller than the {len(specials)} special tokens plus the "
            f"{len(pinned) // 2 if pinned else 'initial'} characters of the alphabet"
        )
    return backend


def _train_generic(
    texts: Iterable[str], kind: str, lowercase: bool, extra: list[str], options: dict[str, Any], show_progress: bool
) -> Any:
    from transformers import PreTrainedTokenizerFast

    backend = _untrained(kind)
    steps = [normalizers.NFC(), *([normalizers.Lowercase()] if lowercase else [])]
    backend.normalizer = normalizers.Sequence(steps)
    if kind == "byte_bpe":
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        backend.decoder = decoders.ByteLevel()
    elif kind == "unigram":
        backend.pre_tokenizer = pre_tokenizers.Metaspace()
        backend.decoder = decoders.Metaspace()
    else:
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece() if kind == "wordpiece" else decoders.BPEDecoder(suffix="</w>")
    specials = [*_GENERIC_SPECIALS, *extra]
    _train(backend, texts, kind, specials, options, show_progress)
    if kind == "unigram":
        model = json.loads(backend.to_str())["model"]
        vocab = [tuple(v) for v in _canonical_unigram(model["vocab"], len(specials))]
        backend.model = models.Unigram(vocab, unk_id=vocab.index(next(v for v in vocab if v[0] == "[UNK]")))
    cls_id, sep_id = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        additional_special_tokens=extra or None,
    )


def _train_xlm(
    texts: Iterable[str], cls: type, kwargs: dict[str, Any], extra: list[str], options: dict[str, Any], show: bool
) -> Any:
    """Train XLM's Python-only tokenizer: BPE with ``</w>`` over XLM's own Moses words, saved as files."""
    from transformers.models.xlm.tokenization_xlm import lowercase_and_remove_accent

    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt")
        _write_xlm_files({token: i for i, token in enumerate(_XLM_SPECIALS)}, [], vocab_file, merges_file)
        blank = cls(vocab_file, merges_file, **kwargs)
        lower = blank.do_lowercase_and_remove_accent

        def words(text: str) -> str:
            tokens = blank.moses_tokenize(blank.moses_pipeline(text, lang="en"), lang="en")
            return " ".join(lowercase_and_remove_accent(tokens) if lower else tokens)

        backend = _untrained("bpe")
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        texts = _checked(texts)
        source: Iterable[str] = [words(t) for t in texts] if isinstance(texts, Collection) else map(words, texts)
        _train(backend, source, "bpe", [*_XLM_SPECIALS, *extra], options, show)
        learned = json.loads(backend.to_str())["model"]
        merges = [m if isinstance(m, str) else " ".join(m) for m in learned["merges"]]
        _write_xlm_files(learned["vocab"], merges, vocab_file, merges_file)
        tokenizer = cls(vocab_file, merges_file, **kwargs)
        tokenizer.init_kwargs.pop("vocab_file", None)
        tokenizer.init_kwargs.pop("merges_file", None)
    if extra:
        tokenizer.add_special_tokens({"additional_special_tokens": extra})
    return tokenizer


def _write_xlm_files(vocab: dict[str, int], merges: list[str], vocab_file: str, merges_file: str) -> None:
    with open(vocab_file, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(merges_file, "w", encoding="utf-8") as f:
        f.write("".join(f"{m}\n" for m in merges))


def _canonical_unigram(vocab: list[list[Any]], n_specials: int) -> list[tuple[str, float]]:
    """Make a trained Unigram vocabulary independent of hash-map order and thread timing.

    The trainer gives each character it must keep but did not learn the score ``min + k * 1e-4`` (``min`` the
    lowest score, ``k = 0, 1, ...``) in hash-map order, and its parallel EM leaves scores differing in their last
    bits. Here those characters get the same scores in sorted order, scores are rounded to 1e-6, and the pieces
    after the specials are sorted by ``(-score, piece)``.
    """
    head = [(str(p), float(s)) for p, s in vocab[:n_specials]]
    body = {str(p): float(s) for p, s in vocab[n_specials:]}
    if body:
        lowest = min(body.values())
        appended: list[str] = []
        while True:
            target = lowest + len(appended) * 1e-4
            found = [p for p, s in body.items() if len(p) == 1 and abs(s - target) < 1e-9 and p not in appended]
            if len(found) != 1:
                break
            appended.append(found[0])
        for k, piece in enumerate(sorted(appended)):
            body[piece] = lowest + k * 1e-4
    rounded = [(p, round(s, 6)) for p, s in body.items()]
    return head + sorted(rounded, key=lambda item: (-item[1], item[0]))


def _alphabet(backend: Tokenizer, texts: Iterable[str]) -> list[str]:
    chars: set[str] = set()
    for text in texts:
        normalized = backend.normalizer.normalize_str(text) if backend.normalizer else text
        for word, _ in backend.pre_tokenizer.pre_tokenize_str(normalized):
            chars.update(word)
    return sorted(chars)


def _checked(texts: Iterable[str]) -> Iterable[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of texts (a list, a generator over a file), not one string")
    return texts


class _Counting:
    """Iterate over texts, counting them and checking that each is a string."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = texts
        self.seen = 0

    def __iter__(self) -> Iterator[str]:
        for text in self.texts:
            if not isinstance(text, str):
                raise TypeError(f"texts[{self.seen}] is a {type(text).__name__}, not a string")
            self.seen += 1
            yield text
