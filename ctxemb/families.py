"""The table of family facts: everything that differs between model families lives here and nowhere else.

Code elsewhere asks :func:`family_for` for a :class:`Family` and reads its fields; there is no
``if model_type == ...`` outside this module. The README shows the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import family_rules as rules
from .capture import Blocks, recorded_blocks

if TYPE_CHECKING:  # only annotations: importing the table does not load torch
    from torch import nn


@dataclass(frozen=True)
class Tiny:
    """How :mod:`ctxemb.testing` builds a small random model of the family.

    Attributes:
        config_class: the family's own transformers config class.
        sizes: ``(hidden, layers, heads, window) -> config keywords`` in the class's own names.
    """

    config_class: str
    sizes: rules.Sizes


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
            token of the sequence, ``"tokenizer"`` for the position of the tokenizer's ``cls_token``,
            ``"trailing"`` for a special token after the text's last piece (the EOS that decoder embedding models
            such as e5-mistral append and read; a tokenizer that appends none has no summary token), or ``None``
            when the family has no summary token (``cls`` is then an error that suggests ``last``).
        max_positions: the model's window in pieces (specials included), or ``None`` for no absolute limit.
        output_width: the width of layer L where it differs from the other layers' (OPT's ``project_out``), else
            ``None``; layer L is then read alone, since layers of two widths cannot share a ``(layers, ..., dim)``
            array.
        position_ids: pass ``position_ids`` counted from the attention mask, so that absolute positions start at
            each text's first piece whatever the padding side (the model's own default counts from column 0).
        blocks: where the hidden states are produced (see :class:`ctxemb.capture.Blocks`); ``None`` from it
            means a full pass with ``output_hidden_states=True``.
        languages: the checkpoint's language -> id table when it needs a ``langs`` input, else ``None``.
        model_kwargs: fixed keyword arguments for every forward call.
        tokenizer_class: the family's transformers tokenizer class, for training new vocabularies.
        tokenizer_kwargs: the keyword arguments new vocabularies are given to that class: those of the family's
            checkpoints (their ``tokenizer_config.json``: whether a BOS token is added, which token pads), and for
            GPT-2 and RoBERTa ``add_prefix_space=True``, so that every word, the first included, is read with the
            space before it, as the vocabulary was trained.
        vocabulary_layout: special tokens whose ids follow the released checkpoints: those taking the first ids, in
            order, and those taking the last ids (RoBERTa's pad id is 1, GPT-2's ``<|endoftext|>`` is its last id), so
            that code assuming pad id 0 fails on the tiny checkpoints too.
        tokenizer_words: for a Python-only tokenizer, the strings its own pre-tokenizer splits a text into
            (``split="tokenizer"``; fast tokenizers give them as ``word_ids``); ``None`` if it exposes none.
        subwords: the kind of vocabulary that class holds (``wordpiece | bpe | byte_bpe | byte_fallback_bpe |
            unigram``).
        tiny: how ``ctxemb.testing`` builds a small random checkpoint of the family (``None``: it builds none).
        notes: what a user should know about the family's layers.
    """

    name: str
    model_types: tuple[str, ...]
    specials: str = ""
    padding_side: Literal["right", "left"] = "right"
    pad_tokens: tuple[str, ...] = ("pad",)
    cls_position: Literal["first", "last", "tokenizer", "trailing"] | None = None
    max_positions: Callable[[Any], int | None] = field(default=rules.absolute_positions)
    output_width: Callable[[Any], int | None] = field(default=rules.hidden_width)
    position_ids: bool = False
    blocks: Callable[[nn.Module], Blocks | None] = field(default=recorded_blocks)
    languages: Callable[[Any, Any], dict[str, int] | None] = field(default=rules.no_languages)
    model_kwargs: tuple[tuple[str, Any], ...] = ()
    tokenizer_class: str | None = None
    tokenizer_kwargs: tuple[tuple[str, Any], ...] = ()
    vocabulary_layout: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    tokenizer_words: Callable[[Any, str, str | None], list[str]] | None = None
    subwords: Literal["wordpiece", "bpe", "byte_bpe", "byte_fallback_bpe", "unigram"] | None = None
    tiny: Tiny | None = None
    notes: str = ""

    def check_layers(self, config: Any, layers: tuple[int, ...], num_layers: int) -> None:
        """Refuse a selection that mixes layer L with other layers when L has another width (``output_width``).

        Raises:
            ValueError: naming both widths and the selections that work.
        """
        width = self.output_width(config)
        if width is not None and num_layers in layers and len(layers) > 1:
            raise ValueError(
                f"layer {num_layers} of this {self.name} model is {width} wide (projected to its word embeddings), "
                f"the other layers {config.hidden_size}: ask for layer {num_layers} alone, or for layers below it "
                f"(layers=slice(0, {num_layers}))"
            )

    def has_summary_token(self, tokenizer: Any) -> bool:
        """Whether ``pool="cls"`` has a token to read: the family's, or the tokenizer's ``cls_token``."""
        if self.cls_position == "tokenizer":
            return getattr(tokenizer, "cls_token_id", None) is not None
        if self.cls_position == "trailing":
            return rules.appends_special(tokenizer)
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
        if self.cls_position == "trailing":
            content = np.flatnonzero(~special)
            after = positions[positions > content[-1]] if content.size else positions
            return int(after[-1]) if after.size else None
        return int(positions[0] if self.cls_position == "first" else positions[-1])


#: What every decoder LLM shares: a pad token borrowed from EOS or UNK under the mask when there is none (the model
#: is never resized), positions counted from the attention mask, and a summary token only where the tokenizer appends
#: one (``add_eos_token=True``, as decoder embedding models ship: ``pool="cls"`` reads that EOS; without it ``cls`` is
#: an error that suggests ``last``). The window is ``max_position_embeddings``.
_DECODER: dict[str, Any] = {"pad_tokens": ("pad", "eos", "unk"), "position_ids": True, "cls_position": "trailing"}
_LLM_NOTE = (
    "Layer L comes after the final norm (as in hidden_states); layers 1..L-1 are block outputs before it. Texts are "
    "windowed at max_position_embeddings, the most positions the checkpoint declares (rotary positions could read "
    "further; some checkpoints were trained on fewer)."
)
_BOS_NOTE = (
    " The BOS token carries a huge 'attention sink' activation; as a special token it is outside words, mean/max "
    "pools and every analysis."
)
_NO_BOS_NOTE = (
    " The tokenizer adds no BOS: the first real piece takes the attention-sink role and its large activation, and "
    "it stays in words and analyses (see the layers guide)."
)
#: The tokenizers that several families share, as their checkpoints ship them (the class, its special-token ids, its
#: vocabulary kind, and for Gemma whether it adds a BOS).
_LLAMA_TOKENIZER: dict[str, Any] = {
    "tokenizer_class": "LlamaTokenizer",
    "vocabulary_layout": (("<unk>", "<s>", "</s>"), ()),
    "subwords": "byte_fallback_bpe",
}
_GEMMA_TOKENIZER: dict[str, Any] = {
    "tokenizer_class": "GemmaTokenizer",
    "tokenizer_kwargs": (("add_bos_token", True),),
    "vocabulary_layout": (("<pad>", "<eos>", "<bos>", "<unk>", "<mask>"), ()),
    "subwords": "byte_fallback_bpe",
}
_QWEN_TOKENIZER: dict[str, Any] = {
    "tokenizer_class": "Qwen2Tokenizer",
    "vocabulary_layout": ((), ("<|endoftext|>",)),
    "subwords": "byte_bpe",
}
_GEMMA_NOTE = " Input embeddings are scaled by sqrt(hidden size), so layer 0 is already scaled."

FAMILIES: tuple[Family, ...] = (
    Family(
        name="bert",
        model_types=("bert",),
        specials="[CLS] text [SEP]",
        cls_position="first",
        position_ids=True,
        tokenizer_class="BertTokenizer",
        tiny=Tiny("BertConfig", rules.bert_sizes),
        subwords="wordpiece",
        notes="Layer L is the last block's output (no final layer norm).",
    ),
    Family(
        name="roberta",
        model_types=("roberta", "xlm-roberta", "camembert"),
        specials="<s> text </s>",
        cls_position="first",
        max_positions=rules.roberta_positions,
        tokenizer_class="RobertaTokenizer",
        tokenizer_kwargs=(("add_prefix_space", True),),
        vocabulary_layout=(("<s>", "<pad>", "</s>", "<unk>"), ("<mask>",)),
        tiny=Tiny("RobertaConfig", rules.roberta_sizes),
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
        tiny=Tiny("AlbertConfig", rules.albert_sizes),
        subwords="unigram",
        notes="Layer 0 is after the embedding-to-hidden projection; all blocks share one set of weights.",
    ),
    Family(
        name="deberta",
        model_types=("deberta-v2", "deberta"),
        specials="[CLS] text [SEP]",
        cls_position="first",
        blocks=rules.deberta_blocks,
        position_ids=True,
        tokenizer_class="DebertaV2Tokenizer",
        tiny=Tiny("DebertaV2Config", rules.deberta_sizes),
        subwords="unigram",
        notes="Relative positions; windowed at max_position_embeddings, the length it was trained on.",
    ),
    Family(
        name="xlnet",
        model_types=("xlnet",),
        specials="text <sep> <cls>",
        padding_side="left",
        cls_position="last",
        max_positions=rules.no_limit,
        blocks=rules.xlnet_blocks,
        model_kwargs=(("use_mems", False),),
        tokenizer_class="XLNetTokenizer",
        tiny=Tiny("XLNetConfig", rules.xlnet_sizes),
        subwords="unigram",
        notes="<cls> is the last token; relative positions, so long texts run in one pass (no window).",
    ),
    Family(
        name="xlm",
        model_types=("xlm",),
        specials="<s> text </s>",
        cls_position="first",
        blocks=rules.xlm_blocks,
        languages=rules.xlm_languages,
        position_ids=True,
        tokenizer_class="XLMTokenizer",
        tiny=Tiny("XLMConfig", rules.xlm_sizes),
        tokenizer_words=rules.moses_words,
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
        tokenizer_kwargs=(("add_prefix_space", True),),
        vocabulary_layout=((), ("<|endoftext|>",)),
        tiny=Tiny("GPT2Config", rules.gpt2_sizes),
        subwords="byte_bpe",
        notes="No pad token: padded with <|endoftext|> under the mask. Layer L comes after the final layer norm "
        "(ln_f); layers 1..L-1 are block outputs before it.",
    ),
    Family(
        name="openai-gpt",
        model_types=("openai-gpt",),
        specials="none",
        pad_tokens=("pad", "unk"),
        blocks=rules.blocks_at("h"),
        position_ids=True,
        tokenizer_class="OpenAIGPTTokenizer",
        tiny=Tiny("OpenAIGPTConfig", rules.gpt_sizes),
        subwords="bpe",
        notes="No special tokens at all; no final layer norm.",
    ),
    Family(
        name="llama",
        padding_side="left",
        model_types=("llama",),
        specials="<s> text",
        **_DECODER,
        **_LLAMA_TOKENIZER,
        tokenizer_kwargs=(("add_bos_token", True),),
        tiny=Tiny("LlamaConfig", rules.llama_sizes),
        notes=_LLM_NOTE + _BOS_NOTE + " Llama 3 ships a byte-level BPE tokenizer that prepends <|begin_of_text|>.",
    ),
    Family(
        name="mistral",
        padding_side="left",
        model_types=("mistral",),
        specials="<s> text",
        **_DECODER,
        **_LLAMA_TOKENIZER,
        tokenizer_kwargs=(("add_bos_token", True),),
        tiny=Tiny("MistralConfig", rules.sliding_sizes),
        notes=_LLM_NOTE + _BOS_NOTE + " Sliding-window attention (4096 pieces in Mistral 7B v0.1) inside the window.",
    ),
    Family(
        name="qwen2",
        model_types=("qwen2",),
        specials="none",
        **_DECODER,
        **_QWEN_TOKENIZER,
        tiny=Tiny("Qwen2Config", rules.llama_sizes),
        notes=_LLM_NOTE + _NO_BOS_NOTE,
    ),
    Family(
        name="qwen3",
        model_types=("qwen3",),
        specials="none",
        **_DECODER,
        **_QWEN_TOKENIZER,
        tiny=Tiny("Qwen3Config", rules.llama_sizes),
        notes=_LLM_NOTE + _NO_BOS_NOTE + " Queries and keys are normalised per head (q_norm, k_norm).",
    ),
    Family(
        name="gemma",
        padding_side="left",
        model_types=("gemma",),
        specials="<bos> text",
        **_DECODER,
        **_GEMMA_TOKENIZER,
        tiny=Tiny("GemmaConfig", rules.llama_sizes),
        notes=_LLM_NOTE + _BOS_NOTE + _GEMMA_NOTE,
    ),
    Family(
        name="gemma2",
        padding_side="left",
        model_types=("gemma2",),
        specials="<bos> text",
        **_DECODER,
        **_GEMMA_TOKENIZER,
        tiny=Tiny("Gemma2Config", rules.sliding_sizes),
        notes=_LLM_NOTE + _BOS_NOTE + _GEMMA_NOTE + " Every other layer attends within a sliding window (4096 pieces).",
    ),
    Family(
        name="gemma3",
        padding_side="left",
        model_types=("gemma3_text",),
        specials="<bos> text",
        **_DECODER,
        **_GEMMA_TOKENIZER,
        tiny=Tiny("Gemma3TextConfig", rules.gemma3_sizes),
        notes=_LLM_NOTE + _BOS_NOTE + _GEMMA_NOTE + " Text checkpoints (model_type gemma3_text, as gemma-3-1b); the "
        "multimodal ones (gemma3) run through the generic entry. Five sliding-window layers per global one.",
    ),
    Family(
        name="phi3",
        padding_side="left",
        model_types=("phi3",),
        specials="none",
        **_DECODER,
        tokenizer_class="LlamaTokenizer",
        tokenizer_kwargs=(("add_bos_token", False), ("pad_token", "<|endoftext|>")),
        vocabulary_layout=(("<unk>", "<s>", "</s>"), ("<|endoftext|>",)),
        subwords="byte_fallback_bpe",
        tiny=Tiny("Phi3Config", rules.llama_sizes),
        notes=_LLM_NOTE + _NO_BOS_NOTE + " Phi-3 and 3.5 ship Llama's tokenizer without BOS and pad with "
        "<|endoftext|>; Phi-4 ships a byte-level BPE one.",
    ),
    Family(
        name="gpt_neox",
        model_types=("gpt_neox",),
        specials="none",
        **_DECODER,
        tokenizer_class="GPTNeoXTokenizer",
        vocabulary_layout=(("<|endoftext|>", "<|padding|>"), ()),
        subwords="byte_bpe",
        tiny=Tiny("GPTNeoXConfig", rules.bert_sizes),
        notes=_LLM_NOTE + _NO_BOS_NOTE + " Pythia checkpoints; rotary embeddings on a quarter of each head.",
    ),
    Family(
        name="opt",
        model_types=("opt",),
        specials="</s> text",
        **_DECODER,
        tokenizer_class="GPT2Tokenizer",
        tokenizer_kwargs=(
            ("add_bos_token", True),
            ("bos_token", "</s>"),
            ("eos_token", "</s>"),
            ("unk_token", "</s>"),
            ("pad_token", "<pad>"),
        ),
        vocabulary_layout=(("<s>", "<pad>", "</s>", "<unk>"), ()),
        subwords="byte_bpe",
        output_width=rules.opt_output_width,
        tiny=Tiny("OPTConfig", rules.opt_sizes),
        notes="Prepends </s> as its BOS, a special token outside words and analyses. Learned absolute positions "
        "counted from the attention mask. Layer L comes after the final layer norm; opt-350m normalises inside each "
        "block instead and projects layer L to its 512-wide word-embedding size, so there layer L is asked for alone.",
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
