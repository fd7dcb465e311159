"""Command-line front end (thin: parse, call an engine, print)."""
