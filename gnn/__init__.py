"""anime-gnn: an anime recommender on a heterogeneous catalog graph.

Data flows one way: ``gnn.data`` (catalog and ratings readers) -> ``gnn.graph``
(the PyG ``HeteroData`` catalog graph) -> ``gnn.models`` -> training and
evaluation -> ONNX export and inference. Nothing in ``gnn`` imports click.
"""

__version__ = "0.1.0"
