"""`sops lsp`: the language server, speaking LSP over stdin/stdout (for editors; see safetyops_dsl/lsp)."""

from __future__ import annotations

import click


@click.command()
def lsp() -> None:
    """Run the .sops language server on stdin/stdout (diagnostics, definition, references, hover, completion).

    Editors start it as a subprocess; it runs until the client sends `exit`. Parsed files are cached in a
    private temporary folder, or in SOPS_CACHE_DIR when set.
    """
    from safetyops_dsl.lsp.server import serve

    serve()
