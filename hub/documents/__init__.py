"""Canonical business documents: orders with lines, shipments, invoices, payments."""
