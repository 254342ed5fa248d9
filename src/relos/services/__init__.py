"""Use cases. Each runs in one unit of work (one transaction) and checks who may act."""
