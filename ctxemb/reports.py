"""The one protocol every report follows: ``table()`` for the text table, ``to_csv`` / ``to_json`` that return the
path they wrote, ``plot`` where there is a figure, and the table shown by ``print`` and in a notebook."""

from __future__ import annotations

import html


class TableReport:
    """What the reports share: ``str(report)`` is :meth:`table`; a notebook shows the table (``_repr_html_``)."""

    def table(self) -> str:
        """The report as a text table."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.table())}</pre>"
