"""API plumbing every route reuses: the error body, auth, parameters, schemas, limits, middleware."""
