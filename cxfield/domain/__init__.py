"""Pure-Python domain: vocabulary, rules and calculations of CX field research.

Nothing here imports a third-party package (checked by import-linter)."""
