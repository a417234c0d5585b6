"""Connectors: one package per kind of external system, each speaking one protocol."""
