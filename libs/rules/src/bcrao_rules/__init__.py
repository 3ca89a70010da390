"""BC-RAO Drafts pure product rules, shared by the generator and draft-store (no I/O)."""
