"""Widgets of the sealing workspace; they render the view models of :mod:`app.ui.models`."""
