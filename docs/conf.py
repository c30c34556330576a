"""Sphinx configuration of the ctxemb documentation (``make docs`` builds it offline, warnings as errors)."""

from __future__ import annotations

import os
from importlib.metadata import version as _version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

project = "ctxemb"
author = "the ctxemb authors"
copyright = "the ctxemb authors, Apache-2.0"
release = _version("ctxemb")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "myst_parser",
    "sphinxarg.ext",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store"]

# MyST: anchors for headings down to ###, so pages can link to a section (`guides/stores.md#reading`).
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]  # definition lists (the notes of guides/families.md)

# autodoc + napoleon: the docstrings are Google style (Args / Returns / Raises).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
autoclass_content = "class"

# intersphinx. Each project lists its real inventory first (None: `<url>objects.inv`) and a small local one
# second (docs/_inventories/, written by make_inventories.py; only the names these pages link to, each pointing
# at its page on the real site). Online builds read the real inventory; offline the first location fails and
# sphinx.ext.intersphinx (`_fetch_inventory_group`, checked in the installed Sphinx 9) logs that at INFO level and
# reads the next one: it warns only when every location of a project fails, so `make docs` stays warning-free
# without the network, and `intersphinx_timeout` keeps a network that does not answer from stalling the build.
# transformers and datasets publish no Sphinx inventory (their docs are not built with Sphinx): the local file only.
# CTXEMB_DOCS_OFFLINE=1 skips the network altogether (the test suite sets it).
_OFFLINE = os.environ.get("CTXEMB_DOCS_OFFLINE") == "1"


def _locations(name: str) -> tuple[str | None, ...]:
    local = f"_inventories/{name}.inv"
    return (local,) if _OFFLINE else (None, local)


intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", _locations("python")),
    "numpy": ("https://numpy.org/doc/stable/", _locations("numpy")),
    "torch": ("https://docs.pytorch.org/docs/stable/", _locations("torch")),
    "gensim": ("https://radimrehurek.com/gensim/", _locations("gensim")),
    "matplotlib": ("https://matplotlib.org/stable/", _locations("matplotlib")),
    "transformers": ("https://huggingface.co/docs/transformers/main/en/", ("_inventories/transformers.inv",)),
    "datasets": ("https://huggingface.co/docs/datasets/main/en/", ("_inventories/datasets.inv",)),
}
intersphinx_timeout = 3

html_theme = "furo"
html_title = f"ctxemb {release}"
html_static_path: list[str] = []
