"""crmsync: two-way sync between an application's own database and its customers' CRMs."""

__version__ = "0.1.0"
