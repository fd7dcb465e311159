"""The demo trading system (business system) of `bidseal hub serve`."""
