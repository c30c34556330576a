"""Write the small local intersphinx inventories of docs/_inventories/ (the offline fallback; see docs/conf.py).

Each inventory lists only the outside names these pages and the API reference link to, each pointing at its page
on the project's real documentation site (URIs are relative to the base URL given in ``intersphinx_mapping``).
Online builds read the projects' full inventories instead. Run it again after adding a name:

    .venv/bin/python docs/_inventories/make_inventories.py
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# inventory name -> (project, version, [(object name, domain:role, URI relative to the base URL)]).
# A URI ending in "$" takes the object name as its anchor (the Sphinx inventory convention).
INVENTORIES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "python": (
        "Python",
        "3",
        [
            *[(name, "py:class", f"library/functions.html#{name}") for name in ("int", "float", "bool")],
            *[(name, "py:class", f"library/stdtypes.html#{name}") for name in ("str", "list", "dict", "tuple")],
            ("slice", "py:class", "library/functions.html#slice"),
            ("None", "py:data", "library/constants.html#None"),
            ("pathlib.Path", "py:class", "library/pathlib.html#$"),
            ("os.PathLike", "py:class", "library/os.html#$"),
            ("typing.Any", "py:data", "library/typing.html#$"),
            ("typing.Literal", "py:data", "library/typing.html#$"),
            *[
                (f"collections.abc.{name}", "py:class", "library/collections.abc.html#$")
                for name in ("Iterable", "Iterator", "Mapping", "Sequence")
            ],
        ],
    ),
    "numpy": (
        "NumPy",
        "stable",
        [
            ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
        ],
    ),
    "torch": (
        "PyTorch",
        "stable",
        [
            ("torch.Tensor", "py:class", "tensors.html#$"),
            ("torch.nn.Module", "py:class", "generated/torch.nn.Module.html#$"),
            ("torch.dtype", "py:class", "tensor_attributes.html#$"),
            ("torch.device", "py:class", "tensor_attributes.html#$"),
        ],
    ),
    "gensim": (
        "gensim",
        "4",
        [
            ("gensim.models.keyedvectors.KeyedVectors", "py:class", "models/keyedvectors.html#$"),
            (
                "gensim.models.keyedvectors.KeyedVectors.evaluate_word_pairs",
                "py:method",
                "models/keyedvectors.html#$",
            ),
            (
                "gensim.models.keyedvectors.KeyedVectors.evaluate_word_analogies",
                "py:method",
                "models/keyedvectors.html#$",
            ),
            ("gensim.test.utils.datapath", "py:function", "test/utils.html#$"),
        ],
    ),
    "transformers": (
        "transformers",
        "main",
        [
            ("transformers.PreTrainedModel", "py:class", "main_classes/model#$"),
            ("transformers.PreTrainedTokenizerBase", "py:class", "main_classes/tokenizer#$"),
            ("transformers.AutoModel", "py:class", "model_doc/auto#$"),
            ("transformers.AutoTokenizer", "py:class", "model_doc/auto#$"),
            ("transformers.Trainer", "py:class", "main_classes/trainer#$"),
        ],
    ),
    "datasets": (
        "datasets",
        "main",
        [
            ("datasets.Dataset", "py:class", "package_reference/main_classes#$"),
            ("datasets.IterableDataset", "py:class", "package_reference/main_classes#$"),
        ],
    ),
    "matplotlib": (
        "Matplotlib",
        "stable",
        [("matplotlib.figure.Figure", "py:class", "api/_as_gen/matplotlib.figure.Figure.html#$")],
    ),
}


def inventory(project: str, version: str, entries: list[tuple[str, str, str]]) -> bytes:
    """One inventory in Sphinx's version 2 format: a plain header, then the zlib-compressed entries."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(entries))
    return header.encode() + zlib.compress(lines.encode())


def main() -> None:
    for name, (project, version, entries) in INVENTORIES.items():
        path = HERE / f"{name}.inv"
        path.write_bytes(inventory(project, version, entries))
        print(f"{path.name}: {len(entries)} names")


if __name__ == "__main__":
    main()
