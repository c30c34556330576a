"""Hyperparameters the scikit-learn way, for every estimator of ctxemb (static models, layer probes).

An estimator stores its keyword constructor arguments under their own names and does nothing else in
``__init__``; :class:`Params` then reads them back from the signature: ``get_params()``, ``set_params(**values)``
and a ``repr`` that shows them.
"""

from __future__ import annotations

import inspect
from typing import Any


class Params:
    """``get_params`` / ``set_params`` / ``repr`` from the constructor's signature."""

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, by name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **values: Any) -> Params:
        """Set constructor arguments by name and return ``self``.

        Raises:
            ValueError: a name the constructor does not take.
        """
        known = self.get_params()
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; its parameters: {', '.join(known)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
