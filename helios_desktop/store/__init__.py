"""The SQLite ledger (the source of truth), its reader and the exporters."""
