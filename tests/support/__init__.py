"""Ready-made test parts (configs, ledgers, windows, servers), shared by every test folder."""
