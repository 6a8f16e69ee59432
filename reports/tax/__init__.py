"""Tax documents: the receipt a donor deducts a gift with (zakat: PMK 114/2025 art. 9; other
deductible gifts: PP 93/2010, PMK 76/2011) and the reports of those receipts for the tax
office, as PDF and CSV, from data passed in."""
