"""Donation receipts and annual receipts."""
