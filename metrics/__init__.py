"""Scorers of the SARChat-Bench protocol v1: parsing, box matching, caption metrics, aggregation."""
