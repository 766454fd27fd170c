"""The books beyond client payments and the fund: client invoices, expenses with receipts,
and bank statements with their reconciliation. Each capability is a subpackage."""
