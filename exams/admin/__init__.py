"""The admin, one module per concern. Importing this package registers them all
(Django's admin autodiscovery imports ``exams.admin``)."""

from . import history, identities, importing, imports, papers, results, worklist

__all__ = [
    "history",
    "identities",
    "importing",
    "imports",
    "papers",
    "results",
    "worklist",
]
