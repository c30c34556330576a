"""The table of family facts: everything that differs between model families lives here and nowhere else.

Code elsewhere asks :func:`family_for` for a :class:`Family` and reads its fields; there is no
``if model_type == ...`` outside this module. The README shows the table.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from .capture import Blocks, recorded_blocks

if TYPE_CHECKING:  # only annotations: importing the table does not load torch
    from torch import nn


def _absolute_positions(config: Any) -> int | None:
    """The window of a model with absolute position embeddings (``max_position_embeddings``)."""
    limit = getattr(config, "max_position_embeddings", None)
    return int(limit) if isinstance(limit, int) and limit > 0 else None


def _roberta_positions(config: Any) -> int | None:
    """RoBERTa numbers positions from ``pad_token_id + 1``: 514 position rows hold a 512-piece window."""
    limit = _absolute_positions(config)
    return None if limit is None else limit - int(config.pad_token_id or 0) - 1


def _no_limit(config: Any) -> int | None:
    """Relative positions only (XLNet): no window, texts of any length run in one pass."""
    return None


def _blocks_at(path: str) -> Callable[[nn.Module], Blocks | None]:
    """Blocks given by the dotted path of the model's list of layers (``"encoder.layer"``)."""

    def find(model: nn.Module) -> Blocks | None:
        layers = tuple(operator.attrgetter(path)(model))
        return Blocks(layers, layers) if layers else None

    find.__doc__ = f"the blocks at ``model.{path}``"
    return find


def _deberta_blocks(model: nn.Module) -> Blocks | None:
    """DeBERTa's layers; with a convolution after the first layer, layer 1 is the convolution's output."""
    # nn.Module types a child's attribute as Tensor | Module; HF models keep their layers in nn.ModuleLists.
    encoder = cast("nn.Module", model.encoder)
    layers = tuple(cast("nn.ModuleList", encoder.layer))
    conv = getattr(encoder, "conv", None)
    return Blocks(layers, layers if conv is None else (conv, *layers[1:]))


def _xlnet_blocks(model: nn.Module) -> Blocks | None:
    """XLNet's layers run time-major: ``(tokens, batch, dim)``; the content stream is output 0."""
    layers = tuple(cast("nn.ModuleList", model.layer))  # a child's attribute is typed Tensor | Module
    return Blocks(layers, layers, index=0, time_major=True)


def _xlm_blocks(model: nn.Module) -> Blocks | None:
    """XLM has no block modules: a layer starts at ``attentions[i]`` and ends at ``layer_norm2[i]``."""
    return Blocks(tuple(cast("nn.ModuleList", model.attentions)), tuple(cast("nn.ModuleList", model.layer_norm2)))


def _xlm_languages(config: Any, tokenizer: Any) -> dict[str, int] | None:
    """XLM checkpoints with language embeddings need ``langs``: their language -> id table."""
    if not (getattr(config, "use_lang_emb", False) and getattr(config, "n_langs", 1) > 1):
        return None
    table = getattr(config, "lang2id", None) or getattr(tokenizer, "lang2id", None) or {}
    return {str(k): int(v) for k, v in table.items()}


def _no_languages(config: Any, tokenizer: Any) -> dict[str, int] | None:
    return None


def _moses_words(tokenizer: Any, text: str, lang: str | None) -> list[str]:
    """XLM's own words: its Moses pipeline and tokenizer, as ``XLMTokenizer._tokenize`` runs them before BPE.

    Raises:
        ValueError: a language XLM splits with its own segmenter (Chinese, Japanese, Thai), whose words ctxemb
            does not reproduce.
    """
    from transformers.models.xlm.tokenization_xlm import romanian_preprocessing

    lang = lang or "en"
    if lang in getattr(tokenizer, "lang_with_custom_tokenizer", ()):
        raise ValueError(
            f"split='tokenizer' with XLM and lang={lang!r}: XLM splits {lang} text with its own segmenter, whose "
            "words ctxemb does not reproduce; use split='punct' or 'whitespace'"
        )
    normalized = tokenizer.moses_pipeline(text, lang=lang)
    if lang == "ro":
        normalized = romanian_preprocessing(normalized)
    words: list[str] = tokenizer.moses_tokenize(normalized, lang=lang)
    return words


Sizes = Callable[[int, int, int, int], dict[str, Any]]


def _bert_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """BERT-style config keywords: ``hidden_size``, ``num_hidden_layers``, ... (feed-forward ``2 * hidden``)."""
    return {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 2 * hidden,
        "max_position_embeddings": window,
    }


def _roberta_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """RoBERTa numbers positions from pad id + 1: two more rows hold a window of ``window``."""
    return {**_bert_sizes(hidden, layers, heads, window + 2), "type_vocab_size": 1}


def _albert_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """ALBERT's embedding size differs from its hidden size (``hidden // 2``), as in the released models."""
    return {**_bert_sizes(hidden, layers, heads, window), "embedding_size": hidden // 2}


def _deberta_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """DeBERTa v2/v3: relative attention (p2c and c2p) and no absolute positions in the input, as released."""
    return {
        **_bert_sizes(hidden, layers, heads, window),
        "relative_attention": True,
        "position_biased_input": False,
        "pos_att_type": ["p2c", "c2p"],
        "type_vocab_size": 0,
    }


def _xlnet_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """XLNet has no window (relative positions only)."""
    return {"d_model": hidden, "n_layer": layers, "n_head": heads, "d_inner": 2 * hidden}


def _xlm_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    return {"emb_dim": hidden, "n_layers": layers, "n_heads": heads, "max_position_embeddings": window}


def _gpt_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    return {"n_embd": hidden, "n_layer": layers, "n_head": heads, "n_positions": window}


def _gpt2_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    return {**_gpt_sizes(hidden, layers, heads, window), "n_inner": 2 * hidden}


@dataclass(frozen=True)
class Tiny:
    """How :mod:`ctxemb.testing` builds a small random model of the family.

    Attributes:
        config_class: the family's own transformers config class.
        sizes: ``(hidden, layers, heads, window) -> config keywords`` in the class's own names.
    """

    config_class: str
    sizes: Sizes


@dataclass(frozen=True)
class Family:
    """Facts about one model family.

    Attributes:
        name: short name shown to users.
        model_types: the ``config.model_type`` values that belong to the family.
        specials: where the tokenizer puts its special tokens (documentation; the tokenizer does it).
        padding_side: where padding goes in a batch. Results never depend on it (positions are read from the
            attention mask); it follows what the family's own tokenizer does.
        pad_tokens: the tokenizer attributes tried in order for the id that fills padding positions (always
            masked); a model without a pad token is padded with another id under the mask, never resized.
        cls_position: which special token ``sentence_vector(pool="cls")`` reads: the first or the last special
            token of the sequence, ``"tokenizer"`` for the position of the tokenizer's ``cls_token``, or ``None``
            when the family has no summary token (``cls`` is then an error that suggests ``last``).
        max_positions: the model's window in pieces (specials included), or ``None`` for no absolute limit.
        position_ids: pass ``position_ids`` counted from the attention mask, so that absolute positions start at
            each text's first piece whatever the padding side (the model's own default counts from column 0).
        blocks: where the hidden states are produced (see :class:`ctxemb.capture.Blocks`); ``None`` from it
            means a full pass with ``output_hidden_states=True``.
        languages: the checkpoint's language -> id table when it needs a ``langs`` input, else ``None``.
        model_kwargs: fixed keyword arguments for every forward call.
        tokenizer_class: the family's transformers tokenizer class, for training new vocabularies.
        tokenizer_words: for a Python-only tokenizer, the strings its own pre-tokenizer splits a text into
            (``split="tokenizer"``; fast tokenizers give them as ``word_ids``); ``None`` if it exposes none.
        subwords: the kind of vocabulary that class holds (``wordpiece | bpe | byte_bpe | unigram``).
        tiny: how ``ctxemb.testing`` builds a small random checkpoint of the family (``None``: it builds none).
        notes: what a user should know about the family's layers.
    """

    name: str
    model_types: tuple[str, ...]
    specials: str = ""
    padding_side: Literal["right", "left"] = "right"
    pad_tokens: tuple[str, ...] = ("pad",)
    cls_position: Literal["first", "last", "tokenizer"] | None = None
    max_positions: Callable[[Any], int | None] = field(default=_absolute_positions)
    position_ids: bool = False
    blocks: Callable[[nn.Module], Blocks | None] = field(default=recorded_blocks)
    languages: Callable[[Any, Any], dict[str, int] | None] = field(default=_no_languages)
    model_kwargs: tuple[tuple[str, Any], ...] = ()
    tokenizer_class: str | None = None
    tokenizer_words: Callable[[Any, str, str | None], list[str]] | None = None
    subwords: Literal["wordpiece", "bpe", "byte_bpe", "unigram"] | None = None
    tiny: Tiny | None = None
    notes: str = ""

    def has_summary_token(self, tokenizer: Any) -> bool:
        """Whether ``pool="cls"`` has a token to read: the family's, or the tokenizer's ``cls_token``."""
        if self.cls_position == "tokenizer":
            return getattr(tokenizer, "cls_token_id", None) is not None
        return self.cls_position is not None

    def summary_index(self, tokenizer: Any, ids: np.ndarray, special: np.ndarray) -> int | None:
        """The position of the summary token in one sequence (``ids``, ``special``: ``(tokens,)``), or ``None``."""
        if not self.has_summary_token(tokenizer):
            return None
        positions = np.flatnonzero(special)
        if self.cls_position == "tokenizer":
            matches = positions[ids[positions] == tokenizer.cls_token_id]
            return int(matches[0]) if len(matches) else None
        if not positions.size:
            return None
        return int(positions[0] if self.cls_position == "first" else positions[-1])


FAMILIES: tuple[Family, ...] = (
    Family(
        name="bert",
        model_types=("bert",),
        specials="[CLS] text [SEP]",
        cls_position="first",
        position_ids=True,
        tokenizer_class="BertTokenizer",
        tiny=Tiny("BertConfig", _bert_sizes),
        subwords="wordpiece",
        notes="Layer L is the last block's output (no final layer norm).",
    ),
    Family(
        name="roberta",
        model_types=("roberta", "xlm-roberta", "camembert"),
        specials="<s> text </s>",
        cls_position="first",
        max_positions=_roberta_positions,
        tokenizer_class="RobertaTokenizer",
        tiny=Tiny("RobertaConfig", _roberta_sizes),
        subwords="byte_bpe",
        notes="Pad id is 1 and positions start at pad id + 1, so 514 position rows give a 512-piece window.",
    ),
    Family(
        name="albert",
        model_types=("albert",),
        specials="[CLS] text [SEP]",
        cls_position="first",
        position_ids=True,
        tokenizer_class="AlbertTokenizer",
        tiny=Tiny("AlbertConfig", _albert_sizes),
        subwords="unigram",
        notes="Layer 0 is after the embedding-to-hidden projection; all blocks share one set of weights.",
    ),
    Family(
        name="deberta",
        model_types=("deberta-v2", "deberta"),
        specials="[CLS] text [SEP]",
        cls_position="first",
        blocks=_deberta_blocks,
        position_ids=True,
        tokenizer_class="DebertaV2Tokenizer",
        tiny=Tiny("DebertaV2Config", _deberta_sizes),
        subwords="unigram",
        notes="Relative positions; windowed at max_position_embeddings, the length it was trained on.",
    ),
    Family(
        name="xlnet",
        model_types=("xlnet",),
        specials="text <sep> <cls>",
        padding_side="left",
        cls_position="last",
        max_positions=_no_limit,
        blocks=_xlnet_blocks,
        model_kwargs=(("use_mems", False),),
        tokenizer_class="XLNetTokenizer",
        tiny=Tiny("XLNetConfig", _xlnet_sizes),
        subwords="unigram",
        notes="<cls> is the last token; relative positions, so long texts run in one pass (no window).",
    ),
    Family(
        name="xlm",
        model_types=("xlm",),
        specials="<s> text </s>",
        cls_position="first",
        blocks=_xlm_blocks,
        languages=_xlm_languages,
        position_ids=True,
        tokenizer_class="XLMTokenizer",
        tiny=Tiny("XLMConfig", _xlm_sizes),
        tokenizer_words=_moses_words,
        subwords="bpe",
        notes="Python-only tokenizer (Moses + BPE, no offsets): the whole text is tokenized by the tokenizer and "
        "piece spans are recovered by aligning the pieces with the text. Checkpoints with language embeddings "
        "need lang=...",
    ),
    Family(
        name="gpt2",
        model_types=("gpt2",),
        specials="none",
        pad_tokens=("pad", "eos"),
        position_ids=True,
        tokenizer_class="GPT2Tokenizer",
        tiny=Tiny("GPT2Config", _gpt2_sizes),
        subwords="byte_bpe",
        notes="No pad token: padded with <|endoftext|> under the mask. Layer L comes after the final layer norm "
        "(ln_f); layers 1..L-1 are block outputs before it.",
    ),
    Family(
        name="openai-gpt",
        model_types=("openai-gpt",),
        specials="none",
        pad_tokens=("pad", "unk"),
        blocks=_blocks_at("h"),
        position_ids=True,
        tokenizer_class="OpenAIGPTTokenizer",
        tiny=Tiny("OpenAIGPTConfig", _gpt_sizes),
        subwords="bpe",
        notes="No special tokens at all; no final layer norm.",
    ),
)

GENERIC = Family(
    name="generic",
    model_types=(),
    specials="as the tokenizer adds them",
    pad_tokens=("pad", "eos", "unk"),
    cls_position="tokenizer",
    notes="Any AutoModel that returns hidden_states. Layers above the highest requested one are skipped when the "
    "model declares its blocks to transformers, otherwise computed.",
)


def family_for(config: Any) -> Family:
    """Return the family of a transformers config (the generic entry when none matches)."""
    model_type = getattr(config, "model_type", None)
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    return GENERIC


def family_for_tokenizer(tokenizer: Any) -> Family:
    """Return the family whose tokenizer class ``tokenizer`` is (the generic entry when none matches)."""
    name = type(tokenizer).__name__
    for family in FAMILIES:
        if family.tokenizer_class == name:
            return family
    return GENERIC


def pad_id(tokenizer: Any, family: Family = GENERIC) -> int:
    """The id that fills padding positions: the first of the family's ``pad_tokens`` the tokenizer has, else 0.

    Padding positions are always masked out; the value matters only to models that derive positions from it
    (RoBERTa counts positions from its pad id, which is why its own pad id is used when there is one).
    """
    for name in family.pad_tokens:
        candidate = getattr(tokenizer, f"{name}_token_id", None)
        if candidate is not None:
            return int(candidate)
    return 0
