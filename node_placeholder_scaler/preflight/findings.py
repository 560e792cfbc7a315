"""A preflight finding: what is wrong, on which object, and the fix (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# error: would stop warming (validate exits 1); warning: warms less or later than asked;
# not-checked: the cluster refused a read the check needs (not a failure).
Severity = Literal["error", "warning", "not-checked"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    subject: str  # the object, e.g. "Deployment nps/placeholder-user"
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.severity}: {self.subject}: {self.problem}\n  fix: {self.fix}"
