"""Model adapters: one module per model family (list-in/list-out generation)."""
