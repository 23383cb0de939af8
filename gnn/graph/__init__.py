"""The heterogeneous catalog graph (PyG ``HeteroData``) and its per-anime padded tables."""
