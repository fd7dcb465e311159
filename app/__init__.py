"""BidSeal: the bidder's UKey client for Chinese e-bidding (SM2/SM3/SM4, SKF, PDF seals)."""

__version__ = "0.1.0"
