"""Reusable parts for edufed tests: a local HTTP fixture server serving hand-written payloads."""
