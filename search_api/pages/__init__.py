"""What the server-rendered pages need besides their templates: view models, forms, Chinese labels, JSON-LD."""
