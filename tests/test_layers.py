from __future__ import annotations

import pytest

from ctxemb import parse_layers, resolve_layers


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ("all", (0, 1, 2, 3, 4, 5, 6)),
        (0, (0,)),
        (-1, (6,)),
        (-7, (0,)),
        ([3, -1, 3, 0], (0, 3, 6)),
        (slice(-4, None), (3, 4, 5, 6)),
        (slice(None, None, 2), (0, 2, 4, 6)),
    ],
)
def test_resolve(selection, expected):
    assert resolve_layers(selection, 6) == expected


@pytest.mark.parametrize("bad", [7, -8, [0, 9]])
def test_out_of_range_names_the_layer_and_range(bad):
    with pytest.raises(ValueError, match=r"outside \[-7, 6\]"):
        resolve_layers(bad, 6)


@pytest.mark.parametrize("bad", ["last", [], slice(10, 20)])
def test_bad_selection(bad):
    with pytest.raises(ValueError):
        resolve_layers(bad, 6)


def test_non_integer_layer():
    with pytest.raises(TypeError, match="not an integer"):
        resolve_layers([1.5], 6)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("all", "all"), ("0,3,-1", [0, 3, -1]), ("-4:", slice(-4, None)), ("2", [2]), ("1:5:2", slice(1, 5, 2))],
)
def test_parse(spec, expected):
    assert parse_layers(spec) == expected


def test_parse_error():
    with pytest.raises(ValueError, match="cannot parse"):
        parse_layers("first")
