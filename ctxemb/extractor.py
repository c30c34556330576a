"""The Extractor: load a model once, run it on length-sorted batches, keep the requested layers."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .alignment import pieces_in_span
from .batching import plan, plan_batches
from .capture import Blocks
from .encoding import Encoded, Target, TextInput, check_targets, check_texts, check_tokenizer_words, encode
from .families import Family, family_for
from .forward import forward_batch
from .layers import LayerSelection, resolve_layers
from .loading import load
from .outputs import Embedding
from .pooling import SENTENCE_POOLS, WORD_POOLS, WordPool, check_pool, no_summary_token, pool_words
from .progress import progress_bar
from .words import SPLITS, Split

logger = logging.getLogger(__name__)


class Extractor:
    """Per-layer token, word and sentence vectors from a Hugging Face model.

    The constructor only stores its arguments; use :meth:`from_pretrained` to load a checkpoint.

    Args:
        model: a transformers base model (``AutoModel``) in eval mode.
        tokenizer: its tokenizer: a fast one (offsets from `tokenizers`) or a Python-only one (offsets recovered by
            aligning its pieces with the text). The ids run are always ``tokenizer(text)["input_ids"]``.
        layers: the default layer selection (``int | Sequence[int] | slice | "all"``); 0 is the embedding output.
        max_length: the window in pieces, specials included; defaults to the model's position limit.
        stride: largest step between the starts of two windows of a long text, in pieces; defaults to three
            quarters of the window, so windows overlap by at least a quarter (127 pieces for BERT's 512, like
            SQuAD's document stride) and a piece near a seam keeps an eighth of a window of context each side.
        max_tokens: budget of padded pieces per batch.
        max_batch: most sequences per batch.
        split: how raw texts are split into words: ``"punct"`` (whitespace and punctuation), ``"whitespace"``, or
            ``"tokenizer"`` (the words of the tokenizer's own pre-tokenizer).
        lang: the language of the texts, for checkpoints with language embeddings (XLM); also passed to a
            Python-only tokenizer that takes it.
        name: the model's name, for provenance.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        layers: LayerSelection = "all",
        *,
        max_length: int | None = None,
        stride: int | None = None,
        max_tokens: int = 4096,
        max_batch: int = 32,
        split: Split = "punct",
        lang: str | None = None,
        name: str | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.layers = layers
        self.max_length = max_length
        self.stride = stride
        self.max_tokens = max_tokens
        self.max_batch = max_batch
        self.split = split
        self.lang = lang
        self.name = name

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        layers: LayerSelection = "all",
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        *,
        trust_remote_code: bool = False,
        device_map: str | dict[str, Any] | None = None,
        max_memory: dict[Any, Any] | None = None,
        offload_folder: str | os.PathLike[str] | None = None,
        load_in_8bit: bool = False,
        load_in_4bit: bool = False,
        **kwargs: Any,
    ) -> Extractor:
        """Load a checkpoint: a local directory, a hub id, or the alias ``"minilm"`` (bundled, offline).

        Args:
            name_or_path: where the model is.
            layers: the default layer selection.
            device: ``"auto"`` (CUDA, MPS, then CPU) or any torch device.
            dtype: ``None`` for the checkpoint's own, or ``"float32" | "bf16" | "fp16"``; vectors come back as
                float32 either way.
            trust_remote_code: run code shipped with the checkpoint; off unless you ask.
            device_map: for models larger than one device: ``"auto"``, ``"balanced"``, ``"sequential"`` or a
                ``{module: device}`` dict, passed to accelerate's big-model inference (blocks spread over the GPUs,
                then the CPU, then disk). The hooks that keep the requested layers work across devices; only those
                layers are copied to the host. Leave ``device`` at ``"auto"``.
            max_memory: ``{device: "20GiB", "cpu": "60GiB"}``, how much each device may hold (with ``device_map``).
            offload_folder: where weights that fit nowhere else go (with ``device_map``).
            load_in_8bit: load the weights quantised to 8 bits by bitsandbytes (installed separately; CUDA GPUs
                only; ``device_map="auto"`` unless given). The vectors then come from the quantised model, not the
                checkpoint's own weights.
            load_in_4bit: the same with 4-bit weights.
            **kwargs: constructor arguments (``max_length``, ``stride``, ``max_tokens``, ``max_batch``,
                ``split``, ``lang``); anything else goes to ``from_pretrained`` of transformers (``revision=...``).

        Raises:
            ValueError: a checkpoint with language embeddings and no ``lang`` or an unknown one (the message lists
                the model's languages).
        """
        names = ("max_length", "stride", "max_tokens", "max_batch", "split", "lang")
        own = {k: kwargs.pop(k) for k in names if k in kwargs}
        placement: dict[str, Any] = {
            "device_map": device_map,
            "max_memory": max_memory,
            "offload_folder": offload_folder,
        }
        placement.update(load_in_8bit=load_in_8bit, load_in_4bit=load_in_4bit)
        model, tokenizer = load(name_or_path, device, dtype, trust_remote_code, placement, **kwargs)
        extractor = cls(model, tokenizer, layers, name=os.fspath(name_or_path), **own)
        extractor.check()  # fail now, not at the first batch
        return extractor

    def check(self, layers: LayerSelection | None = None, sentence_pool: str | None = None) -> tuple[int, ...]:
        """Check the settings against the model before anything runs (``embed`` does it too).

        Args:
            layers: the layer selection about to be used (the extractor's own by default).
            sentence_pool: a sentence pool about to be used, checked against the model (``cls`` needs a summary
                token, which GPT-style models do not have).

        Returns:
            That selection resolved: the absolute layer numbers to keep.

        Raises:
            ValueError: naming the setting: a layer selection outside ``[-L-1, L]``, a ``max_length`` above the
                model's position limit or too short for its special tokens, a ``stride`` longer than a window
                holds, a ``max_tokens`` / ``max_batch`` that is not a positive integer, an unknown ``split``, or a
                language the checkpoint does not have, or ``sentence_pool="cls"`` on a model without a summary token.
            TypeError: a setting of the wrong type (``max_tokens="100"``).
        """
        for name in ("max_tokens", "max_batch", "max_length", "stride"):
            value = getattr(self, name)
            if value is None and name in ("max_length", "stride"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be a positive integer, not {value!r} ({type(value).__name__})")
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if self.split not in SPLITS:
            raise ValueError(f"unknown split {self.split!r}; choose one of {', '.join(SPLITS)}")
        if self.split == "tokenizer":
            check_tokenizer_words(self.tokenizer)
        kept = resolve_layers(self.layers if layers is None else layers, self.num_layers)
        self.family.check_layers(self.model.config, kept, self.num_layers)
        limit = self.family.max_positions(self.model.config)
        specials = int(self.tokenizer.num_special_tokens_to_add())
        if self.max_length is not None and limit is not None and self.max_length > limit:
            raise ValueError(
                f"max_length {self.max_length} is longer than the {limit} positions of this {self.family.name} "
                f"model; use at most {limit} (longer texts are windowed anyway)"
            )
        window = self.window
        if window is not None and window <= specials:
            raise ValueError(f"a window of {window} pieces leaves no room beside the {specials} special tokens")
        if self.stride is not None and window is not None and self.stride > window - specials:
            raise ValueError(
                f"stride {self.stride} is longer than the {window - specials} pieces a window of {window} holds beside "
                f"its {specials} special tokens: pieces between windows would have no vectors"
            )
        self._lang_id()
        if sentence_pool is not None:
            check_pool(sentence_pool, SENTENCE_POOLS, "sentence")
        if sentence_pool == "cls" and not self.has_summary_token:
            raise no_summary_token(f"this {self.family.name} model")
        return kept

    @property
    def has_summary_token(self) -> bool:
        """Whether ``sentence_pool="cls"`` has a token to read (the family's, or the tokenizer's ``cls_token``)."""
        return self.family.has_summary_token(self.tokenizer)

    @property
    def family(self) -> Family:
        """The model's entry in the table of family facts."""
        return family_for(self.model.config)

    @property
    def num_layers(self) -> int:
        """``L``: the number of blocks; hidden states are numbered ``0..L``."""
        return int(self.model.config.num_hidden_layers)

    @property
    def window(self) -> int | None:
        """The longest sequence (specials included) the model is run on; longer texts are windowed."""
        if self.max_length is not None:
            return self.max_length
        candidates = [
            self.family.max_positions(self.model.config),
            getattr(self.tokenizer, "model_max_length", None),
        ]
        limits = [int(x) for x in candidates if x is not None and x < 1_000_000]
        return min(limits) if limits else None

    def _lang_id(self) -> int | None:
        """The id of :attr:`lang` for checkpoints with language embeddings, ``None`` for the others.

        Raises:
            ValueError: the checkpoint needs a language and ``lang`` is missing or unknown.
        """
        languages = self.family.languages(self.model.config, self.tokenizer)
        if languages is None:
            return None
        if self.lang not in languages:
            given = "no lang was given" if self.lang is None else f"lang={self.lang!r} is not one of them"
            raise ValueError(
                f"this {self.family.name} checkpoint has language embeddings for {', '.join(sorted(languages))}; "
                f"{given}. Pass lang=... to Extractor.from_pretrained (--lang on the command line)."
            )
        return languages[self.lang]

    def embed(
        self,
        texts: Sequence[TextInput],
        *,
        layers: LayerSelection | None = None,
        progress: bool | None = None,
        names: Sequence[str] | None = None,
    ) -> list[Embedding]:
        """Embed texts: one :class:`Embedding` per text, in input order.

        Args:
            texts: raw strings, or pre-split words (lists of strings), or a mix. An empty or whitespace-only
                text gives a result with no words (its specials are still embedded).
            layers: overrides the extractor's layer selection for this call.
            progress: a progress bar over pieces: ``None`` where someone watches (a terminal or notebook, after a
                second), ``True`` always, ``False`` never.
            names: how warnings name each text (default ``texts[i]``); the store passes the input's ids.
        """
        items = check_texts(texts)
        kept = self.check(layers)
        if names is not None and (isinstance(names, str) or len(names) != len(items)):
            given = "a string" if isinstance(names, str) else f"{len(names)} names"
            raise ValueError(f"names must hold one name per text: got {given} for {len(items)} texts")
        if not items:
            return []
        encoded = encode(self.tokenizer, items, self.split, self.lang, names)
        hidden = self._run(encoded, kept, progress)
        results = [self._result(e, h, kept) for e, h in zip(encoded, hidden)]
        _report_empty_words(results, names)
        return results

    def embed_spans(
        self,
        targets: Sequence[Target],
        pool: WordPool = "mean",
        *,
        layers: LayerSelection | None = None,
        progress: bool | None = None,
    ) -> np.ndarray:
        """Embed target occurrences given by character spans: ``(layers, n, dim)``, layers first as everywhere.

        Each target is ``(text, (start, end))``; the span picks the occurrence and must fall on piece
        boundaries. Texts shared by several targets are embedded once.

        Raises:
            ValueError: listing every target whose span is out of range, cuts through a piece, or covers none,
                before anything is computed.
        """
        check_pool(pool, WORD_POOLS, "word")
        kept = self.check(layers)
        texts, which = check_targets(targets)
        dim = self.model.config.hidden_size * (2 if pool == "first_last" else 1)
        if not texts:
            return np.zeros((len(kept), 0, dim), dtype=np.float32)
        encoded = encode(self.tokenizer, texts, self.split, self.lang)
        selected, problems = [], []
        for i, (text, (start, end)) in enumerate(targets):
            enc = encoded[which[i]]
            inside, cut = pieces_in_span(enc.offsets, enc.special, start, end)
            if cut.size:
                piece = int(cut[0])
                s, e = enc.offsets[piece]
                problems.append(
                    f"targets[{i}]: span ({start}, {end}) {text[start:end]!r} cuts through piece "
                    f"{enc.tokens[piece]!r} at ({s}, {e}) {text[s:e]!r}"
                )
            elif inside.size == 0:
                problems.append(f"targets[{i}]: span ({start}, {end}) {text[start:end]!r} covers no piece")
            selected.append(inside)
        if problems:
            raise ValueError(_summarise(problems, "bad target span"))
        hidden = self._run(encoded, kept, progress)
        out = np.empty((len(kept), len(targets), dim), dtype=np.float32)
        for i, inside in enumerate(selected):
            out[:, i] = pool_words(hidden[which[i]], np.array([0, len(inside)]), inside, pool)[:, 0]
        return out

    def _run(self, encoded: list[Encoded], layers: tuple[int, ...], progress: bool | None) -> list[np.ndarray]:
        """Run the model over every text (windowed where too long); ``(layers, tokens, dim)`` per text.

        The sequences come from :func:`ctxemb.batching.plan`; they run in length-sorted batches (the token budget
        halved and the rest planned again after an out-of-memory error), and each output goes to its text at once
        (:meth:`ctxemb.batching.Plan.collect`): memory holds the results and at most one batch of windows.
        """
        sequences = plan(
            [len(enc.ids) for enc in encoded], [enc.content_range() for enc in encoded], self.window, self.stride
        )
        lengths = sequences.lengths
        blocks = self.family.blocks(self.model)
        out: list[np.ndarray | None] = [None] * len(encoded)
        sequences.allocate(out, len(layers), int(self.model.config.hidden_size))
        bar = progress_bar(total=int(lengths.sum()), unit="piece", progress=progress, desc="embedding")
        budget = self.max_tokens
        queue = plan_batches(lengths, budget, self.max_batch)
        while queue:
            batch = queue.pop(0)
            try:
                inputs = [self._sequence(encoded, sequences.content, sequences.units[u]) for u in batch]
                arrays = self._forward(inputs, layers, blocks)
            except torch.OutOfMemoryError:
                if len(batch) == 1:
                    raise
                budget = max(1, budget // 2)
                logger.warning(
                    "out of memory on a batch of %d sequences of up to %d pieces; retrying with the token budget "
                    "halved to %d",
                    len(batch),
                    int(lengths[batch].max()),
                    budget,
                )
                _free_device_cache(self.model.device)
                rest = np.concatenate([batch, *queue])
                queue = [rest[b] for b in plan_batches(lengths[rest], budget, self.max_batch)]
                continue
            for u, array in zip(batch, arrays):
                sequences.collect(out, int(u), array)
            bar.update(int(lengths[batch].sum()))
        bar.close()
        return out  # type: ignore[return-value]

    @staticmethod
    def _sequence(
        encoded: list[Encoded], content: list[tuple[int, int]], unit: tuple[int, int, int]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        t, a, b = unit
        enc, (first, stop) = encoded[t], content[t]
        if (a, b) == (first, stop):
            return enc.ids, enc.type_ids
        pick = np.r_[0:first, a:b, stop : len(enc.ids)]
        return enc.ids[pick], None if enc.type_ids is None else enc.type_ids[pick]

    def _forward(
        self,
        sequences: list[tuple[np.ndarray, np.ndarray | None]],
        layers: tuple[int, ...],
        blocks: Blocks | None,
    ) -> list[np.ndarray]:
        """Run one batch (see :func:`ctxemb.forward.forward_batch`): ``(layers, tokens, dim)`` per sequence."""
        return forward_batch(self.model, self.family, self.tokenizer, sequences, layers, blocks, self._lang_id())

    def _result(self, enc: Encoded, hidden: np.ndarray, layers: tuple[int, ...]) -> Embedding:
        return Embedding(
            text=enc.text,
            ids=enc.ids,
            special=enc.special,
            offsets=enc.offsets,
            word_spans=enc.word_spans,
            layers=layers,
            hidden=hidden,
            word_ptr=enc.word_ptr,
            word_tokens=enc.word_tokens,
            cls_index=self.family.summary_index(self.tokenizer, enc.ids, enc.special),
            token_source=enc.token_source,
        )

    def __repr__(self) -> str:
        return f"Extractor({self.name or type(self.model).__name__!r}, layers={self.layers!r})"


def _free_device_cache(device: torch.device) -> None:
    """Return cached blocks to the device after an out-of-memory error."""
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _summarise(problems: list[str], what: str, shown: int = 5) -> str:
    head = "\n  ".join(problems[:shown])
    more = f"\n  ... and {len(problems) - shown} more" if len(problems) > shown else ""
    return f"{len(problems)} {what}{'s' if len(problems) > 1 else ''}:\n  {head}{more}"


def _report_empty_words(results: list[Embedding], names: Sequence[str] | None = None) -> None:
    empty = [(i, w) for i, r in enumerate(results) for w in r.empty_words]
    if empty:
        i, w = empty[0]
        logger.warning(
            "%d word(s) yield no piece and get NaN word vectors (see Embedding.empty_words); first: %s word %d %r",
            len(empty),
            f"texts[{i}]" if names is None else names[i],
            w,
            results[i].words[w],
        )
