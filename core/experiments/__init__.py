"""One module per experiment: its typed Config with the book's values, and build(cfg)."""
