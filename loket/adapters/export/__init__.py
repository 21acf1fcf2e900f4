"""Exporters: where reports go to the police back-end (services.ports.ReportExporter)."""
