"""One trainer and one evaluator for every model behind :class:`gnn.models.base.RatingModel`."""
