"""Signed PDF documents for the donation ledger: receipts now, statements later.

The package takes plain data in (str, int, date, bytes) and never imports the
``ledger`` package, so it can be used and tested on its own. Modules:

- :mod:`reports.pdf.certificates` — an organization's ECDSA P-256 signing certificate.
- :mod:`reports.pdf.signing` — PAdES signing and validation of PDFs.
- :mod:`reports.receipt.pdf` — one-donation and annual donor receipts.
- :mod:`reports.pdf.attachments` — files embedded in PDFs (the receipt's tlog-proof).
- :mod:`reports.errors` — :class:`~reports.errors.ReportError` and its subclasses.
"""
