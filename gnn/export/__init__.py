"""ONNX export of a trained two-tower model with every user-independent computation precomputed.

:mod:`gnn.export.tables` folds the model into constant tables,
:mod:`gnn.export.scorer` wraps them into the exported module,
:mod:`gnn.export.parity` checks ONNX Runtime against PyTorch,
:mod:`gnn.export.deploy` swaps a verified build into place (versions, rollback) and
:mod:`gnn.export.onnx_export` ties it together (:func:`gnn.export.onnx_export.export_model`).
"""


class ExportError(Exception):
    """The export could not produce a model that matches PyTorch (nothing was deployed)."""
