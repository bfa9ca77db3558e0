"""Spreadsheet import of exam results: reading files (reading), checking and
classifying rows (plan), and the services that preview and write them (service)."""
