"""Diagnostics, 一键检测: one call that checks everything a bid day depends on and says
what to do, an emergency guide for the opening, and a support report.

Qt-free, so the GUI's diagnostics dialog, ``bidseal diagnose`` and ``bidseal
support-report`` show the same findings::

    from app.diagnostics import run_diagnostics, emergency_guide, write_support_report
    report = run_diagnostics()                 # DiagnosticReport: checks with status/summary/fix
    guide = emergency_guide("cannot_decrypt", report)
    write_support_report("support.zip", report)

Checks (ids): ``skf_libraries``, ``pcsc``, ``keys``, ``certificates``, ``pin``, ``clock``,
``disk``, ``crypto_backend``, ``envelopes``, ``helper``, ``trust``, ``settings``,
``versions``. Each is in its own small function (:mod:`.token_checks`,
:mod:`.system_checks`, :mod:`.service_checks`).
"""

from app.diagnostics.guide import GUIDES, Guide, Step, emergency_guide
from app.diagnostics.model import Check, DiagnosticReport, Status, Text
from app.diagnostics.runner import CHECKS, run_diagnostics
from app.diagnostics.support import SupportReport, redact, write_support_report

__all__ = [
    "CHECKS", "GUIDES", "Check", "DiagnosticReport", "Guide", "Status", "Step", "SupportReport", "Text",
    "emergency_guide", "redact", "run_diagnostics", "write_support_report",
]
