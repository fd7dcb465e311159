"""Helpers shared by the test suite (real services, fixtures, sample data)."""
