"""Helpers shared by the store tests (imported as a plain module; pytest puts ``tests/`` on the path)."""

from __future__ import annotations

import numpy as np


def manifest_content(manifest: dict) -> dict:
    """A manifest without the files' checksums: safetensors writes its metadata in hash-map order, so two runs
    that store the same content write files whose bytes (never their sizes) differ."""
    shards = [{**e, "files": {n: r["bytes"] for n, r in e["files"].items()}} for e in manifest["shards"]]
    return {**manifest, "shards": shards}


def assert_same_store(a, b, exact: bool = True) -> None:
    """Two stores hold the same manifest (checksums aside), texts and vectors (bit for bit unless ``exact=False``)."""
    assert manifest_content(a.manifest) == manifest_content(b.manifest)
    assert a.to_dataset().to_list() == b.to_dataset().to_list()
    assert a.vectors == b.vectors
    for kind in a.vectors:
        for x, y in zip(a.arrays(kind), b.arrays(kind), strict=True):
            if exact:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
