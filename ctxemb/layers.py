"""Layer selections: ``int | Sequence[int] | slice | "all"`` resolved against ``L``.

Layer ``k`` is exactly Hugging Face's ``hidden_states[k]``: 0 is the output of the embedding layer, ``L`` the
output of the last block. Negative numbers count from the end (``-1`` is ``L``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

LayerSelection = int | Sequence[int] | slice | Literal["all"]


def resolve_layers(selection: LayerSelection, num_layers: int) -> tuple[int, ...]:
    """Resolve a layer selection to sorted, distinct absolute indices in ``[0, num_layers]``.

    Args:
        selection: ``"all"``, one index, a sequence of indices or a slice over ``range(num_layers + 1)``.
        num_layers: ``L``, the number of blocks; there are ``L + 1`` hidden states.

    Returns:
        The absolute layer indices, ascending, without repeats.

    Raises:
        ValueError: an index outside ``[-L-1, L]``, an empty selection, or an unknown string.
        TypeError: anything that is not a selection.
    """
    n = num_layers + 1
    if isinstance(selection, str):
        if selection != "all":
            raise ValueError(f'unknown layer selection {selection!r}; use "all", an int, a list or a slice')
        return tuple(range(n))
    if isinstance(selection, slice):
        out = tuple(range(n)[selection])
        if not out:
            raise ValueError(f"layer slice {selection} selects no layer of a model with layers 0..{num_layers}")
        return out
    items = [selection] if isinstance(selection, int) else selection
    if not isinstance(items, Sequence) or isinstance(items, (bytes, bytearray)):
        raise TypeError(f"a layer selection is an int, a sequence of ints, a slice or 'all', not {selection!r}")
    resolved = set()
    for k in items:
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"layer {k!r} is not an integer")
        if not -n <= k < n:
            raise ValueError(
                f"layer {k} is outside [{-n}, {num_layers}] for this model ({num_layers} layers + embeddings)"
            )
        resolved.add(k % n)
    if not resolved:
        raise ValueError("the layer selection is empty")
    return tuple(sorted(resolved))


def parse_layers(spec: str) -> LayerSelection:
    """Parse a command-line layer selection: ``all``, ``0,3,-1``, ``-4:`` or ``2``.

    Raises:
        ValueError: text that is none of these forms.
    """
    spec = spec.strip()
    if spec == "all":
        return "all"
    try:
        if ":" in spec:
            parts = [int(p) if p.strip() else None for p in spec.split(":")]
            if len(parts) > 3:
                raise ValueError
            return slice(*parts)
        return [int(p) for p in spec.split(",")]
    except ValueError:
        raise ValueError(f"cannot parse layer selection {spec!r}; examples: all, 0,3,-1, -4:, 2") from None


def layer_name(k: int) -> str:
    """The one name of layer ``k`` in results, reports and file names: ``layer{k}`` (``layer0`` is the embeddings)."""
    return f"layer{k}"


def layer_of(name: str) -> int | None:
    """The layer a :func:`layer_name` names (``"layer12"`` -> 12), or ``None`` for any other name."""
    if name.startswith("layer") and name[5:].isdigit():
        return int(name[5:])
    return None
