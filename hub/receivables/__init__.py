"""Receivables per sales stage: each order's money plan follows its sale through the stages.

``pipeline.py`` (YAML → versions) · ``plans.py`` (enrolment, instalments) · ``stages.py``
(stage detection, set-based) · ``allocation.py`` (invoices → instalments, payments → invoices) ·
``scan.py`` (the set-based overdue scan) · ``deliver.py`` (digests by e-mail and webhook) ·
``reports.py`` (ageing, funnel, counts, exports) · ``service.py`` (what the API and CLI call).
"""
