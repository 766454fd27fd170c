"""Ledger exports (CSV, XLSX, Beancount), member statements, financial statements, dashboards."""
