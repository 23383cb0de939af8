"""Rating models behind one interface (:class:`gnn.models.base.RatingModel`)."""
