"""Shared pieces of the reports researchers paste into papers: leaderboard, compare, plots."""
