"""Normalizers: platform values (HTML, dates, counts, people, categories) made clean and uniform."""
