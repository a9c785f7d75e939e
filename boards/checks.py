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


@dataclasses.dataclass(frozen=True)
class Goal:
    """A speed goal: a measured ratio with its 95 % interval against a limit. Reported with its margin, never gating:
    timings on a shared machine move by more than the goals' margins."""

    name: str
    value: float
    interval: Tuple[float, float]
    limit: float
    kind: str

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.kind == "max" else self.value >= self.limit

    @property
    def margin(self) -> float:
        """How far the value is past its limit as a fraction of the limit: positive when met, negative when missed."""
        return (self.limit - self.value) / self.limit if self.kind == "max" else (self.value - self.limit) / self.limit

    @property
    def certain(self) -> bool:
        """The whole interval is on the same side of the limit as the value."""
        low, high = self.interval
        return (high <= self.limit or low > self.limit) if self.kind == "max" else (low >= self.limit or high < self.limit)

    def to_dict(self) -> Dict[str, Any]:
        return {"value": self.value, "interval": list(self.interval), "limit": self.limit, "kind": self.kind,
                "met": self.met, "margin": self.margin, "interval_clear_of_limit": self.certain}

    def row(self) -> Tuple[str, str]:
        sign = "<=" if self.kind == "max" else ">="
        verdict = "met" if self.met else "missed"
        return (f"goal {self.name}", f"{self.value:.3f} [95 % {self.interval[0]:.3f}-{self.interval[1]:.3f}] ({sign} {self.limit:g}) "
                f"{verdict} by {abs(self.margin) * 100:.1f} %" + ("" if self.certain else ", interval spans the limit"))


def judge_goals(values: Mapping[str, Tuple[float, float, float]], limits: Tolerances) -> Tuple[Goal, ...]:
    """A goal for every (value, low, high) that has a limit."""
    return tuple(Goal(name, v[0], (v[1], v[2]), *limits[name]) for name, v in values.items() if name in limits)


def judge(values: Mapping[str, float], tolerances: Tolerances) -> Tuple[Check, ...]:
    """A check for every value that has a tolerance."""
    return tuple(Check(name, value, *tolerances[name]) for name, value in values.items() if name in tolerances)


@dataclasses.dataclass(frozen=True)
class CheckedReport:
    """A JSON report and the checks behind it; `data["checks"]` mirrors `checks`."""

    data: Dict[str, Any]
    checks: Tuple[Check, ...]
    goals: Tuple[Goal, ...] = ()

    @classmethod
    def of(cls: type[R], data: Dict[str, Any], checks: Tuple[Check, ...], goals: Tuple[Goal, ...] = ()) -> R:
        return cls({**data, "checks": {c.name: {"value": c.value, "limit": c.limit, "kind": c.kind, "passed": c.passed,
                                                "missed_by": c.shortfall} for c in checks},
                    "goals": {g.name: g.to_dict() for g in goals}}, checks, goals)

    @property
    def ok(self) -> bool:
        """Every check passed; goals (speed) never decide it."""
        return all(c.passed for c in self.checks)

    def with_checks(self: R, values: Mapping[str, float], tolerances: Tolerances) -> R:
        """The same report with more checks (e.g. a demo's accuracy targets) judged and recorded."""
        return type(self).of(self.data, self.checks + judge(values, tolerances), self.goals)

    def save(self, path: Path) -> Path:
        with atomic_file(Path(path)) as tmp:
            tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
        return Path(path)

    def goal_rows(self) -> list:
        return [g.row() for g in self.goals]

    def check_rows(self) -> list:
        return [(f"check {c.name}", f"{c.value:.6g} ({'<=' if c.kind == 'max' else '>='} {c.limit:g}) "
                 + ("PASS" if c.passed else f"FAIL, missed by {c.shortfall * 100:.1f} %")) for c in self.checks]
