"""`sops lsp`: a language server for `.sops` models (diagnostics, definition, references, hover, completion).

server.py holds the protocol side (pygls) and the per-model state; symbols.py the symbol index it answers
navigation from.
"""
