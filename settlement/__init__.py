"""Double-entry ledger engine and inter-shop clearing: journal, periods, netting, statements.

A pure engine: no web framework, no hub or node imports.
"""
