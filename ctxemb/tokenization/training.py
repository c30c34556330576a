"""Training WordPiece, BPE, byte-level BPE and Unigram vocabularies with `tokenizers`, for any model family.

With a ``family``, the vocabulary is trained through that family's own tokenizer pipeline: the family's
transformers tokenizer class is built empty, its normalizer and pre-tokenizer are kept, a model of the family's
kind is trained under them, and the class is built again from the learned vocabulary (and merges). transformers 5
rebuilds these classes from their vocabulary on load, so this is the only way to get a tokenizer that
``AutoTokenizer`` loads back with identical ids, offsets and ``word_ids``. XLM's tokenizer is Python-only (Moses +
BPE with ``</w>``): its BPE is trained on Moses-tokenized, lowercased, accent-stripped words and written as
``vocab.json`` + ``merges.txt``. Without a family, the result is a ``PreTrainedTokenizerFast`` around the trained
pipeline with ``[CLS] text [SEP]`` specials.

How the corpus is streamed and why two trainings give the same vocabulary: :mod:`ctxemb.tokenization.vocabulary`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from ..families import FAMILIES, Family
from .vocabulary import Options, learn

TokenizerKind = Literal["wordpiece", "bpe", "byte_bpe", "byte_fallback_bpe", "unigram"]
KINDS: tuple[str, ...] = ("wordpiece", "bpe", "byte_bpe", "byte_fallback_bpe", "unigram")
GENERIC_SPECIALS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: Training units inside a ``▁``-prefixed word, close to SentencePiece's script and digit splits: a run of letters
#: (with their marks), one digit, or a run of anything else, each taking the ``▁`` before it; a ``▁`` alone is a unit.
_SCRIPT_RUNS = r"\u2581?[\p{L}\p{M}]+|\u2581?\p{N}|\u2581?[^\p{L}\p{M}\p{N}\u2581]+|\u2581"
#: The largest ``vocab_size`` accepted: 2**24 entries (the trainers allocate for all of them before reading).
MAX_VOCAB_SIZE = 2**24
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
    "LlamaTokenizer": False,
    "GemmaTokenizer": False,
    "Qwen2Tokenizer": False,
    "GPTNeoXTokenizer": False,
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
    kind: TokenizerKind | None = None,
    vocab_size: int = 8000,
    *,
    family: str | None = None,
    min_frequency: int = 2,
    lowercase: bool | None = None,
    special_tokens: Iterable[str] | None = None,
    limit_alphabet: int | None = None,
    show_progress: bool = False,
    tokenizer_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """Train a subword vocabulary on ``texts`` and return a transformers tokenizer.

    Args:
        texts: any iterable of strings (a list, a generator over a file, a ``datasets`` column), streamed: a
            collection is read twice (alphabet, then training), a one-pass iterator is spooled to a temporary file.
        kind: ``wordpiece | bpe | byte_bpe | unigram``; defaults to the family's own kind.
        vocab_size: the size of the vocabulary, special tokens included.
        family: ``bert | roberta | albert | deberta | xlnet | xlm | gpt2 | openai-gpt``: its special tokens, their
            placement, padding side, normalisation and pre-tokenisation, and its tokenizer class.
        min_frequency: how often a merge (BPE, WordPiece) must occur to be learned.
        lowercase: lowercase the text; ``None`` keeps the family's default (without a family: ``False``).
        special_tokens: extra special tokens, added after the family's own (without a family, after
            ``[PAD] [UNK] [CLS] [SEP] [MASK]``).
        limit_alphabet: keep at most this many initial characters, the most frequent (BPE and WordPiece only).
        show_progress: show the trainer's progress bar.
        tokenizer_kwargs: more keyword arguments for the family's tokenizer class (XLM's ``lang2id`` and
            ``id2lang``, say); they are saved with it.

    Returns:
        A tokenizer that ``save_pretrained`` writes and ``AutoTokenizer.from_pretrained`` loads back identically:
        the family's own class, or ``PreTrainedTokenizerFast`` without a family.

    Raises:
        ValueError: an unknown kind or family, a kind the family's tokenizer cannot hold, a lowercase setting the
            family's tokenizer cannot keep, ``vocab_size`` too small for the specials and alphabet or above
            ``MAX_VOCAB_SIZE``, an empty corpus, or a text that is not valid Unicode (naming it).
        TypeError: ``texts`` or ``special_tokens`` is one string, or ``texts`` holds something that is not a string.
    """
    spec = family_named(family) if family is not None else None
    if spec is not None and spec.subwords is None:
        raise ValueError(f"family {family!r} has no tokenizer to train")
    kind = kind or (spec.subwords if spec is not None else None)
    if kind not in KINDS:
        raise ValueError(f"unknown tokenizer kind {kind!r}; choose one of {', '.join(KINDS)}")
    if spec is not None and kind != spec.subwords:
        raise ValueError(f"{spec.tokenizer_class} ({family}) holds a {spec.subwords} vocabulary, not {kind}")
    if limit_alphabet is not None and kind not in ("wordpiece", "bpe"):
        raise ValueError(f"limit_alphabet applies to BPE and WordPiece, not {kind}")
    for name, value, low in (("vocab_size", vocab_size, 1), ("min_frequency", min_frequency, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
    if vocab_size > MAX_VOCAB_SIZE:
        raise ValueError(
            f"vocab_size {vocab_size:,} is more than ctxemb trains ({MAX_VOCAB_SIZE:,}): the trainers reserve memory "
            "for every entry up front, and no corpus gives that many pieces (the largest published vocabularies "
            "hold about 256k); a vocabulary larger than the corpus can fill simply stops growing"
        )
    if isinstance(special_tokens, (str, bytes)):
        raise TypeError(f"special_tokens must be a list of strings, not one string: [{special_tokens!r}]")
    if limit_alphabet is not None and (not isinstance(limit_alphabet, int) or limit_alphabet < 1):
        raise ValueError(f"limit_alphabet must be a positive integer or None, not {limit_alphabet!r}")
    if spec is None and tokenizer_kwargs:
        raise ValueError("tokenizer_kwargs needs a family: they go to the family's tokenizer class")
    extra = [str(t) for t in special_tokens or ()]
    options = Options(vocab_size, min_frequency, limit_alphabet, show_progress)
    if spec is None:
        return _train_generic(texts, kind, bool(lowercase), extra, options)
    cls, kwargs = _family_class(spec, lowercase)
    kwargs.update(tokenizer_kwargs or {})
    if spec.tokenizer_class == "XLMTokenizer":
        return _train_xlm(texts, cls, kwargs, extra, options)
    tokenizer = _train_family(texts, kind, spec, cls, kwargs, extra, options)
    tokenizer.padding_side = spec.padding_side
    return tokenizer


def _family_class(spec: Family, lowercase: bool | None) -> tuple[type, dict[str, Any]]:
    import transformers

    cls = getattr(transformers, str(spec.tokenizer_class))
    kwargs: dict[str, Any] = dict(spec.tokenizer_kwargs)
    rule = _LOWERCASE[cls.__name__]
    if lowercase is not None and isinstance(rule, str):
        kwargs[rule] = lowercase
    elif lowercase is not None and lowercase != rule:
        raise ValueError(
            f"{cls.__name__} ({spec.name}) always {'lowercases' if rule else 'keeps case'}; transformers "
            "rebuilds its pipeline on load, so another setting would not survive saving"
        )
    return cls, kwargs


def _untrained(kind: str, unk: str | None = None) -> Tokenizer:
    if kind == "wordpiece":
        return Tokenizer(models.WordPiece(unk_token=unk or "[UNK]"))
    if kind == "unigram":
        return Tokenizer(models.Unigram())
    if kind == "bpe":
        return Tokenizer(models.BPE(unk_token=unk, end_of_word_suffix="</w>"))
    if kind == "byte_fallback_bpe":
        return Tokenizer(models.BPE(byte_fallback=True))
    return Tokenizer(models.BPE())


def _training_pipeline(backend: Tokenizer, blank: Any, kind: str) -> None:
    """Give ``backend`` the normalizer and pre-tokenizer that the family's class trains under.

    Byte-fallback BPE classes (Llama, Gemma) read a whole text as one string of ``▁``-joined pieces
    (``Metaspace(split=False)``, or a normalizer that turns spaces into ``▁``), which is how SentencePiece encodes.
    SentencePiece trains on whitespace-separated pieces (``split_by_whitespace``) cut where the Unicode script
    changes (``split_by_unicode_script``: ``spring.`` is ``▁spring`` + ``.``) and, for Llama and Gemma, with every
    digit apart (``split_digits``), so no merge crosses those boundaries. The training pre-tokenizer approximates
    that: ``Metaspace(split=True)`` with the class's own prefix rule (Llama prepends ``▁`` to the first word, Gemma
    does not), then runs of letters, single digits and runs of other characters, each with the ``▁`` before it
    (letters of two scripts in one word stay one unit, and runs of spaces are single ``▁`` units).
    Encoding with the class's pipeline then gives the same pieces, since no learned merge joins across them.
    """
    pipeline = blank.backend_tokenizer
    if kind != "byte_fallback_bpe":
        backend.normalizer = pipeline.normalizer
        backend.pre_tokenizer = pipeline.pre_tokenizer
        return
    backend.pre_tokenizer = _sentencepiece_units(getattr(pipeline.pre_tokenizer, "prepend_scheme", "never"))


def _sentencepiece_units(scheme: str) -> Any:
    """``▁``-prefixed words (``Metaspace(split=True)`` with the prefix rule ``scheme``) cut into SentencePiece's
    training units (:data:`_SCRIPT_RUNS`)."""
    words = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme=scheme, split=True)
    return pre_tokenizers.Sequence([words, pre_tokenizers.Split(Regex(_SCRIPT_RUNS), behavior="isolated")])


def _train_family(
    texts: Iterable[str], kind: str, spec: Family, cls: type, kwargs: dict[str, Any], extra: list[str], opts: Options
) -> Any:
    """Train under the pipeline of the family's (fast) class and build the class from what was learned."""
    blank = cls(**kwargs)
    backend = _untrained(kind)
    _training_pipeline(backend, blank, kind)
    vocab = blank.backend_tokenizer.get_vocab(with_added_tokens=True)
    own = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    head, tail = spec.vocabulary_layout
    first = [*head, *(t for t in own if t not in head and t not in tail)]
    last = [t for t in tail if t in own]
    size = Options(opts.vocab_size - len(last), opts.min_frequency, opts.limit_alphabet, opts.show_progress)
    if size.vocab_size < 1:
        raise ValueError(f"vocab_size {opts.vocab_size} is smaller than the {len(own)} special tokens of {spec.name}")
    learned = json.loads(learn(backend, texts, kind, [*first, *extra], size).to_str())["model"]
    if kind == "unigram":
        kwargs["vocab"] = [tuple(entry) for entry in learned["vocab"]] + [(t, 0.0) for t in last]
    else:
        kwargs["vocab"] = {**learned["vocab"], **{t: len(learned["vocab"]) + i for i, t in enumerate(last)}}
        if kind != "wordpiece":
            kwargs["merges"] = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in learned["merges"]]
    tokenizer = cls(**kwargs)
    if extra:
        tokenizer.add_special_tokens({"additional_special_tokens": extra})
    return tokenizer


def _train_generic(texts: Iterable[str], kind: str, lowercase: bool, extra: list[str], opts: Options) -> Any:
    """Train a family-less pipeline: NFC (+ lowercase), the kind's pre-tokenizer, ``[CLS] text [SEP]``."""
    from transformers import PreTrainedTokenizerFast

    backend = _untrained(kind, "[UNK]")
    backend.normalizer = normalizers.Sequence([normalizers.NFC(), *([normalizers.Lowercase()] if lowercase else [])])
    if kind == "byte_bpe":
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        backend.decoder = decoders.ByteLevel()
    elif kind == "unigram":
        backend.pre_tokenizer = pre_tokenizers.Metaspace()
        backend.decoder = decoders.Metaspace()
    elif kind == "byte_fallback_bpe":
        backend.pre_tokenizer = _sentencepiece_units("first")
        backend.decoder = decoders.Sequence(
            [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
        )
    else:
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece() if kind == "wordpiece" else decoders.BPEDecoder(suffix="</w>")
    specials = [*GENERIC_SPECIALS, *extra]
    trained = learn(backend, texts, kind, specials, opts)
    cls_id, sep_id = trained.token_to_id("[CLS]"), trained.token_to_id("[SEP]")
    template = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    if kind == "byte_bpe":  # offsets of Ġ pieces without the space before them
        trimming = processors.ByteLevel(trim_offsets=True)
        trained.post_processor = processors.Sequence([trimming, template])
    else:
        trained.post_processor = template
    return PreTrainedTokenizerFast(
        tokenizer_object=trained,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        additional_special_tokens=extra or None,
    )


def _train_xlm(texts: Iterable[str], cls: type, kwargs: dict[str, Any], extra: list[str], opts: Options) -> Any:
    """Train XLM's Python-only tokenizer: BPE with ``</w>`` over XLM's own Moses words, saved as files."""
    from transformers.models.xlm.tokenization_xlm import lowercase_and_remove_accent

    with tempfile.TemporaryDirectory(prefix="ctxemb-xlm-") as tmp:
        vocab_file, merges_file = os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt")
        _write_xlm_files({token: i for i, token in enumerate(_XLM_SPECIALS)}, [], vocab_file, merges_file)
        blank = cls(vocab_file, merges_file, **kwargs)
        lower = blank.do_lowercase_and_remove_accent

        def words(text: str) -> str:
            tokens = blank.moses_tokenize(blank.moses_pipeline(text, lang="en"), lang="en")
            return " ".join(lowercase_and_remove_accent(tokens) if lower else tokens)

        backend = _untrained("bpe")
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        learned = json.loads(learn(backend, texts, "bpe", [*_XLM_SPECIALS, *extra], opts, words).to_str())["model"]
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
