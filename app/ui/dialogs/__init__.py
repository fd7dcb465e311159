"""Dialogs of the sealing workspace, one per module (PIN, change PIN, unblock, certificate,
keyword placement, cross-page seal, progress, errors)."""
