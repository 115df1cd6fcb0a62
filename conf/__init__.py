"""sarbench's Hydra configs, shipped inside the package as `sarbench.conf` (see pyproject.toml)."""
