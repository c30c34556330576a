"""The rules the family table points at: windows, output widths, where the blocks are, languages, a Python
tokenizer's own words, whether a tokenizer appends a summary token, and the sizes of the tiny checkpoints.

Each is a small function of a config, a model or a tokenizer; :mod:`ctxemb.families` names, for each family, which
ones apply. Nothing here is looked up by model type.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from .capture import Blocks

if TYPE_CHECKING:  # only annotations: importing the rules does not load torch
    from torch import nn


def absolute_positions(config: Any) -> int | None:
    """The window of a model with absolute position embeddings (``max_position_embeddings``)."""
    limit = getattr(config, "max_position_embeddings", None)
    return int(limit) if isinstance(limit, int) and limit > 0 else None


def roberta_positions(config: Any) -> int | None:
    """RoBERTa numbers positions from ``pad_token_id + 1``: 514 position rows hold a 512-piece window."""
    limit = absolute_positions(config)
    return None if limit is None else limit - int(config.pad_token_id or 0) - 1


def hidden_width(config: Any) -> int | None:
    """Every layer, L included, is ``hidden_size`` wide."""
    return None


def opt_output_width(config: Any) -> int | None:
    """OPT checkpoints whose word embeddings are narrower than the hidden size (opt-350m: 512 against 1024) project
    the last layer back to that width (``project_out``), so layer L is ``word_embed_proj_dim`` wide."""
    width = getattr(config, "word_embed_proj_dim", None)
    return int(width) if width is not None and width != config.hidden_size else None


def no_limit(config: Any) -> int | None:
    """Relative positions only (XLNet): no window, texts of any length run in one pass."""
    return None


def blocks_at(path: str) -> Callable[[nn.Module], Blocks | None]:
    """Blocks given by the dotted path of the model's list of layers (``"encoder.layer"``)."""

    def find(model: nn.Module) -> Blocks | None:
        layers = tuple(operator.attrgetter(path)(model))
        return Blocks(layers, layers) if layers else None

    find.__doc__ = f"the blocks at ``model.{path}``"
    return find


def deberta_blocks(model: nn.Module) -> Blocks | None:
    """DeBERTa's layers; with a convolution after the first layer, layer 1 is the convolution's output."""
    # nn.Module types a child's attribute as Tensor | Module; HF models keep their layers in nn.ModuleLists.
    encoder = cast("nn.Module", model.encoder)
    layers = tuple(cast("nn.ModuleList", encoder.layer))
    conv = getattr(encoder, "conv", None)
    return Blocks(layers, layers if conv is None else (conv, *layers[1:]))


def xlnet_blocks(model: nn.Module) -> Blocks | None:
    """XLNet's layers run time-major: ``(tokens, batch, dim)``; the content stream is output 0."""
    layers = tuple(cast("nn.ModuleList", model.layer))  # a child's attribute is typed Tensor | Module
    return Blocks(layers, layers, index=0, time_major=True)


def xlm_blocks(model: nn.Module) -> Blocks | None:
    """XLM has no block modules: a layer starts at ``attentions[i]`` and ends at ``layer_norm2[i]``."""
    return Blocks(tuple(cast("nn.ModuleList", model.attentions)), tuple(cast("nn.ModuleList", model.layer_norm2)))


def xlm_languages(config: Any, tokenizer: Any) -> dict[str, int] | None:
    """XLM checkpoints with language embeddings need ``langs``: their language -> id table."""
    if not (getattr(config, "use_lang_emb", False) and getattr(config, "n_langs", 1) > 1):
        return None
    table = getattr(config, "lang2id", None) or getattr(tokenizer, "lang2id", None) or {}
    return {str(k): int(v) for k, v in table.items()}


def no_languages(config: Any, tokenizer: Any) -> dict[str, int] | None:
    return None


def moses_words(tokenizer: Any, text: str, lang: str | None) -> list[str]:
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


_APPENDS: weakref.WeakKeyDictionary[Any, tuple[Any, bool]] = weakref.WeakKeyDictionary()


def appends_special(tokenizer: Any) -> bool:
    """Whether the tokenizer appends a special token (an EOS) to every text.

    Asked once per tokenizer and ``add_eos_token`` setting (``summary_index`` needs it for every text)."""
    setting = getattr(tokenizer, "add_eos_token", None)
    try:
        known, answer = _APPENDS[tokenizer]
        if known == setting:
            return answer
    except (KeyError, TypeError):
        pass
    mask = tokenizer("a", return_special_tokens_mask=True)["special_tokens_mask"]
    answer = bool(mask) and bool(mask[-1])
    try:
        _APPENDS[tokenizer] = (setting, answer)
    except TypeError:  # not weakly referenceable: asked again next time
        pass
    return answer


Sizes = Callable[[int, int, int, int], dict[str, Any]]


def bert_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """BERT-style config keywords: ``hidden_size``, ``num_hidden_layers``, ... (feed-forward ``2 * hidden``)."""
    return {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 2 * hidden,
        "max_position_embeddings": window,
    }


def roberta_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """RoBERTa numbers positions from pad id + 1: two more rows hold a window of ``window``."""
    return {**bert_sizes(hidden, layers, heads, window + 2), "type_vocab_size": 1}


def albert_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """ALBERT's embedding size differs from its hidden size (``hidden // 2``), as in the released models."""
    return {**bert_sizes(hidden, layers, heads, window), "embedding_size": hidden // 2}


def deberta_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """DeBERTa v2/v3: relative attention (p2c and c2p) and no absolute positions in the input, as released."""
    return {
        **bert_sizes(hidden, layers, heads, window),
        "relative_attention": True,
        "position_biased_input": False,
        "pos_att_type": ["p2c", "c2p"],
        "type_vocab_size": 0,
    }


def xlnet_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """XLNet has no window (relative positions only)."""
    return {"d_model": hidden, "n_layer": layers, "n_head": heads, "d_inner": 2 * hidden}


def xlm_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    return {"emb_dim": hidden, "n_layers": layers, "n_heads": heads, "max_position_embeddings": window}


def gpt_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    return {"n_embd": hidden, "n_layer": layers, "n_head": heads, "n_positions": window}


def gpt2_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    return {**gpt_sizes(hidden, layers, heads, window), "n_inner": 2 * hidden}


def llama_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """Llama-style decoders (Llama, Mistral, Qwen, Gemma, Phi-3): grouped-query attention with half as many
    key/value heads as query heads (the released models have fewer of them), head size ``hidden // heads``."""
    return {
        **bert_sizes(hidden, layers, heads, window),
        "num_key_value_heads": max(1, heads // 2),
        "head_dim": hidden // heads,
    }


def sliding_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """Llama-style with a sliding attention window (Mistral, Gemma 2) shorter than the tiny texts, so that the
    tests exercise it: ``window // 8`` pieces (16 for the tiny checkpoints)."""
    return {**llama_sizes(hidden, layers, heads, window), "sliding_window": max(2, window // 8)}


def gemma3_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """Gemma 3: sliding-window layers with a global one between them (every sixth in the released models; every
    second here, so that three layers hold both kinds)."""
    kinds = ["full_attention" if i % 2 else "sliding_attention" for i in range(layers)]
    return {**sliding_sizes(hidden, layers, heads, window), "layer_types": kinds}


def opt_sizes(hidden: int, layers: int, heads: int, window: int) -> dict[str, Any]:
    """OPT: ``ffn_dim`` for the feed-forward width, word embeddings of the hidden size."""
    return {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "ffn_dim": 2 * hidden,
        "max_position_embeddings": window,
        "word_embed_proj_dim": hidden,
    }
