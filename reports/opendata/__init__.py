"""Open data: one fund's money over a period as a Fiscal Data Package.

A Frictionless Data Package (``datapackage.json`` plus CSV files) with the Open Spending
"fiscal" profile (Fiscal Data Package 0.3: ``profile: fiscal-data-package``, a ``model`` of
measures and dimensions). Like every ``reports`` module it gets its data passed in and
never touches the database:

- :mod:`reports.opendata.rows` — what one log entry becomes as a CSV row (direction,
  classification, counterparty, amounts), a pure function of the entry's body;
- :mod:`reports.opendata.package` — the descriptor, the CSV files and the zip, byte for
  byte the same for the same data.
"""
