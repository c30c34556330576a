"""The table of family facts: everything that differs between model families lives here and nowhere else.

Code elsewhere asks :func:`family_for` for a :class:`Family` and reads its fields; there is no
``if model_type == ...`` outside this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


def _absolute_positions(config: Any) -> int | None:
    """The window of a model with absolute position embeddings (``max_position_embeddings``)."""
    return getattr(config, "max_position_embeddings", None)


@dataclass(frozen=True)
class Family:
    """Facts about one model family.

    Attributes:
        name: short name shown to users.
        model_types: the ``config.model_type`` values that belong to the family.
        padding_side: where padding goes in a batch. Results never depend on it (positions are read from the
            attention mask), but some families only work correctly with one side.
        cls_position: which special token ``sentence_vector(pool="cls")`` reads: the first or the last special
            token of the sequence, or ``None`` when the family has no summary token.
        max_positions: the model's window in pieces (specials included), or ``None`` for no absolute limit.
        notes: what a user should know about the family's layers.
    """

    name: str
    model_types: tuple[str, ...]
    padding_side: Literal["right", "left"] = "right"
    cls_position: Literal["first", "last"] | None = None
    max_positions: Callable[[Any], int | None] = field(default=_absolute_positions)
    notes: str = ""


FAMILIES: tuple[Family, ...] = (
    Family(
        name="bert",
        model_types=("bert",),
        cls_position="first",
        notes="[CLS] text [SEP]; layer L is the last block's output (no final layer norm).",
    ),
)

GENERIC = Family(
    name="generic",
    model_types=(),
    cls_position=None,
    notes="Any AutoModel that returns hidden_states; no summary token is assumed.",
)


def family_for(config: Any) -> Family:
    """Return the family of a transformers config (the generic entry when none matches)."""
    model_type = getattr(config, "model_type", None)
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    return GENERIC


def pad_id(tokenizer: Any) -> int:
    """The id used to fill padding positions.

    Padding positions are always masked out, so the value only matters to families that derive positions from
    it (RoBERTa counts positions from its pad id); models without a pad token (GPT-2) are padded with their
    end-of-text id under an attention mask, never by adding a token to the vocabulary.
    """
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0
