"""The cooperative's data belongs to the cooperative: a full export as one XLSX workbook or a ZIP of CSVs."""
