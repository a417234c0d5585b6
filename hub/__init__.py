"""Concord: the integration hub between ERP, finance and legacy CRM systems."""

__version__ = "0.1.0"
