"""Search index backends behind one IndexBackend protocol: embedded SQLite FTS5, or Elasticsearch."""
