"""anime-gnn: an anime recommender on a heterogeneous catalog graph.

Data flows one way: ``gnn.data`` (catalog and ratings readers) -> ``gnn.graph``
(the PyG ``HeteroData`` catalog graph) -> ``gnn.preprocess`` (writes a processed
folder) and ``gnn.processed`` (loads one) -> ``gnn.models`` -> ``gnn.train``
(training and evaluation) -> ``gnn.export`` (ONNX) -> ``gnn.inference``.
``gnn.io`` and ``gnn.errors`` are leaves anyone may import; no two packages
import each other (``tests/test_imports.py``). Nothing in ``gnn`` imports click.
"""

__version__ = "0.1.0"
