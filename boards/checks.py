"""Checks as data: a measured value against a limit, and a report that carries its JSON and its checks."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple, TypeVar

from ..runtime.files import atomic_file

Tolerances = Mapping[str, Tuple[float, str]]  # name -> (limit, "max": must not exceed | "min": must reach)
R = TypeVar("R", bound="CheckedReport")


@dataclasses.dataclass(frozen=True)
class Check:
    """One promise: its measured value against its limit."""

    name: str
    value: float
    limit: float
    kind: str

    @property
    def shortfall(self) -> float:
        """How far the value is from its limit, as a fraction of the limit (0 when the check passes)."""
        if self.passed or self.limit == 0:
            return 0.0
        return abs(self.value - self.limit) / abs(self.limit)

    @property
    def passed(self) -> bool:
        return self.value <= self.limit if self.kind == "max" else self.value >= self.limit


def judge(values: Mapping[str, float], tolerances: Tolerances) -> Tuple[Check, ...]:
    """A check for every value that has a tolerance."""
    return tuple(Check(name, value, *tolerances[name]) for name, value in values.items() if name in tolerances)


@dataclasses.dataclass(frozen=True)
class CheckedReport:
    """A JSON report and the checks behind it; `data["checks"]` mirrors `checks`."""

    data: Dict[str, Any]
    checks: Tuple[Check, ...]

    @classmethod
    def of(cls: type[R], data: Dict[str, Any], checks: Tuple[Check, ...]) -> R:
        return cls({**data, "checks": {c.name: {"value": c.value, "limit": c.limit, "kind": c.kind, "passed": c.passed,
                                                "missed_by": c.shortfall} for c in checks}}, checks)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def with_checks(self: R, values: Mapping[str, float], tolerances: Tolerances) -> R:
        """The same report with more checks (e.g. a demo's accuracy targets) judged and recorded."""
        return type(self).of(self.data, self.checks + judge(values, tolerances))

    def save(self, path: Path) -> Path:
        with atomic_file(Path(path)) as tmp:
            tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
        return Path(path)

    def check_rows(self) -> list:
        return [(f"check {c.name}", f"{c.value:.6g} ({'<=' if c.kind == 'max' else '>='} {c.limit:g}) "
                 + ("PASS" if c.passed else f"FAIL, missed by {c.shortfall * 100:.1f} %")) for c in self.checks]
