"""HTTP routes of the edufed web service, one module per group of endpoints."""
