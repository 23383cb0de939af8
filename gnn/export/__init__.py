"""ONNX export of a trained model with every user-independent computation precomputed.

The GNN recommender: :mod:`gnn.export.gnn_scorer`, :mod:`gnn.export.gnn_parity` and
:mod:`gnn.export.gnn_export`. The baseline (a :class:`gnn.models.concat_head.ConcatHeadModel`):
:mod:`gnn.export.tables` folds the model into constant tables,
:mod:`gnn.export.scorer` wraps them into the exported module,
:mod:`gnn.export.parity` checks ONNX Runtime against PyTorch.

For both, :mod:`gnn.export.deploy` swaps a verified build into place (versions, rollback) and
:mod:`gnn.export.onnx_export` ties it together (:func:`gnn.export.onnx_export.export_model`).
"""


class ExportError(Exception):
    """The export could not produce a model that matches PyTorch (nothing was deployed)."""
