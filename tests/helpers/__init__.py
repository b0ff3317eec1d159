"""Helpers for the durability, integrity, concurrency, bad-corpus and soak tests."""
