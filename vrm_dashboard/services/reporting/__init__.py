"""Figures across capabilities: the managers' overview and counts per status and currency."""
