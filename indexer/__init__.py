"""The indexer: the record model, normalizers, the theme classifier and the search index backends."""
