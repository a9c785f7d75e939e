"""`paddle-edge tune`: the fastest way to run this bundle on a board, among the engine configurations whose outputs pass
parity there.

Every candidate (backend x precision x threads x the backend's settings, runtime/backends SETTINGS), and always the
configurations the runtime runs untuned, runs on the board (runtime/tune_run.py), timed in rounds with the others at
each batch size, by successive halving: brief rungs drop the slower half of each race (a precision on one backend)
until `keep` are left, and only those, with the untuned ones, run all of the evaluation inputs (a heavy model's 34
configurations, each timed in full and evaluated, did not finish in 25 minutes on two cores). The host judges each
survivor's outputs as board parity does (fp32 against this host's fp32 runtime, int8 against the exact int8 semantics;
BOARD_TOLERANCES) and picks, per batch size and precision, the fastest that passed. Picking the fastest of many biases
its own timings, so the pick is timed again against the untuned configuration in fresh rounds (a second run on the
board, nothing else timed), and it replaces the untuned one only if it was faster in enough of those rounds for the
interval of the per-round ratio to clear 1; a contest those rounds leave open (the pick faster by the median, the
interval reaching 1) gets more rounds, once, and is decided on all of them. For either precision (`precision="auto"`) the two precisions' own
choices contend in the same way against the untuned configuration of auto, so its choice is always one of theirs. The
choices go to the board's tuning file (runtime/tuning.py), which `runtime.open(backend="auto")` reads on that machine. A
tuning measured under emulation is written apart, labelled, and never used for a choice or a speed claim.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import numpy as np

from .. import runtime
from ..export.artifact_engines import NoEngineHere, artifact_runner
from ..export.evaluation import EvaluationSet, Outputs, evaluation_set, run_groups, task_scores
from ..runtime import backends
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_file
from ..runtime.metrics import drops
from ..runtime.tuning import ANY, Choice, Tuning, bundle_sha256, tuning_dir
from .bench.grid import calls_for
from .board_parity import BOARD_TOLERANCES, answer_values, exact_int8_file
from .board_run import Board, TuneRun, board_cores, run_tune_plan
from .checks import CheckedReport, judge, judge_goals
from .latency import Ratio, round_ratios
from .provenance import provenance

# board parity's checks (its kernel check is per file, not per engine, and stays in `board parity`), among them, on
# labelled data, parity's limits on the task metric int8 loses against float as a CPU runs it (boards/parity.py): for an
# int8 text model, whose end-to-end agreement board parity reports without gating, its only check
TOLERANCES = {k: v for k, v in BOARD_TOLERANCES.items() if k != "int8_kernel_max_steps"}
TUNED_BACKENDS = ("onnxruntime", "openvino", "openvino-throughput", "paddlelite")  # not the unfused reference
SELECT_ROUNDS, CONFIRM_ROUNDS = 5, 10  # 10 paired rounds: the median's interval clears 1 when 9 of them do
# for a contest the 10 leave open, 20 more (30: it clears when 21 do); with no difference at all, a switch on either look
# has a chance of at most 1.1 % + 2.1 % (binomial tails of the two sign tests)
MORE_ROUNDS = 20
KEEP = 2  # survivors of the halving per race (a precision on one backend), besides the untuned configurations
# how the choice for either precision was made, recorded in the report (files written before this key took the fastest
# candidate when picking, which could be a configuration a precision's own choice was preferred to)
EITHER_RULE = "the fp32 and int8 choices (fp32's alone where the bundle's scores rule int8 out) against the untuned configuration of auto"
GOAL = (1.0, "min")  # per batch size: the untuned configuration's time over the choice's (reported, never gating)
# what decides tune's exit code: some configuration passed, and the one the runtime runs untuned did
CHECKS = {"passing_candidates": (1.0, "min"), "untuned_configuration_parity": (1.0, "min")}
DEFAULT_LIMIT = 1000  # evaluation samples per surviving candidate: each runs them all on the board


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One engine configuration to try on the board."""

    tag: str
    backend: str
    precision: str
    threads: int
    settings: Dict[str, str]

    @property
    def race(self) -> str:
        """The halving's group: a precision on one backend (its hints are one race), whose configurations run the same
        kernels on the same file, so tend to pass or fail parity together: each race sends its fastest to be judged."""
        return f"{self.precision} on {self.backend.split('-')[0]}"

    def plan(self) -> Dict[str, Any]:
        return {**dataclasses.asdict(self), "race": self.race}

    def describe(self) -> str:
        return Choice(self.backend, self.precision, self.threads, self.settings, 0.0).describe()


def default_thread_counts(cores: int) -> List[int]:
    """1, 2, 4, ... up to the core count, and the core count."""
    return sorted({1 << k for k in range(cores.bit_length()) if 1 << k <= cores} | {cores})


def candidates(manifest: runtime.Manifest, names: Sequence[str], threads: Sequence[int], cores: int,
               auto: str, largest_batch: int) -> Tuple[List[Candidate], Dict[str, str]]:
    """Every configuration of the named backends that the bundle has a file for (precision x threads x the settings
    that can differ up to `largest_batch`, backends.combinations), and always the ones runtime.open runs untuned
    (onnxruntime, `cores` threads, its default settings: the first listed); with the tags of those untuned ones by
    precision, and under ANY the one it runs for precision "auto" (`auto`: runtime.default_precision's choice)."""
    configs: List[Tuple[str, str, int, Dict[str, str]]] = []
    for name in names:
        backends.require_known(name)
        for precision in manifest.precisions(backends.BACKENDS[name][2]):
            configs += [(name, precision, n, chosen) for n in threads for chosen in backends.combinations(name, n, largest_batch)]
    default_settings = {k: v[0] for k, v in backends.SETTINGS[runtime.DEFAULT_BACKEND].items()}
    untuned_configs = {p: (runtime.DEFAULT_BACKEND, p, cores, default_settings) for p in manifest.precisions("onnx")}
    configs += [c for c in untuned_configs.values() if c not in configs]
    found = [Candidate(f"c{i}", *config) for i, config in enumerate(configs)]
    untuned = {p: next(c.tag for c in found if (c.backend, c.precision, c.threads, c.settings) == config) for p, config in untuned_configs.items()}
    return found, {**untuned, **({ANY: untuned[auto]} if auto in untuned else {})}


class TuneReport(CheckedReport):
    """Every candidate's parity and speed on the board, the confirmation of each pick, and the choices written."""

    def render(self) -> str:
        d = self.data
        label = f"EMULATED under qemu -cpu {d['qemu_cpu']}: parity holds, the speeds are not the board's" if d["emulated"] else "native"
        lines = [f"tune {d['board']} ({label}); {d['board_cpu']}; {d['samples']} samples; batch sizes {d['batches']}",
                 "rungs: " + "; ".join(f"{r['candidates']} candidates x " + ", ".join(f"{n} calls at b{b}" for b, n in r["calls"].items())
                                       for r in d["rungs"])]
        width = max(len(c["what"]) for c in d["candidates"])
        lines.append(f"{'candidate':<{width}}  parity" + "".join(f"  b{b} p50 us" for b in d["batches"]))
        first = str(d["batches"][0])
        for c in sorted(d["candidates"], key=lambda c: (c["error"] is not None, c.get("dropped_at_rung") is not None,
                                                        c.get("latency_us", {}).get(first, {}).get("p50", 1e18))):
            if c["error"]:
                lines.append(f"{c['what']:<{width}}  not runnable here: {c['error']}")
                continue
            dropped = c["dropped_at_rung"] is not None
            verdict = "-" if dropped else "pass" if c["passed"] else "FAIL (" + ", ".join(c["failed"]) + ")"
            times = "".join(f"  {c['latency_us'][str(b)]['p50']:>10,.0f}" for b in d["batches"])
            note = (f"dropped by rung {c['dropped_at_rung'] + 1} of {len(d['rungs'])} of {c['race']}, times from its brief timing; "
                    "not evaluated" if dropped else
                    f"untuned rule: {', '.join(c['untuned_for'])}" if c["untuned_for"] else "")
            lines.append(f"{c['what']:<{width}}  {verdict:<6}{times}" + (f"  ({note})" if note else ""))
        for b, per in d["confirmation"].items():
            for key, c in per.items():
                ratio = c["untuned_over_pick"]
                said = f"b{b} {key}: chose {c['chosen_what']}"
                if ratio is not None:
                    said += (f"; the pick {c['pick_what']} against the untuned one on {ratio['pairs']} fresh rounds: "
                             f"{ratio['value']:.3f} [{ratio['interval'][0]:.3f}, {ratio['interval'][1]:.3f}]"
                             + ("" if c["switched"] else ", not clear of 1: the untuned one stays"))
                elif c["switched"]:
                    said += " (unconfirmed: the untuned configuration failed parity or could not run)"
                lines.append(said)
        again = d.get("more_rounds")
        if again:
            lines.append(f"{len(again['contests'])} contest(s) left open by {CONFIRM_ROUNDS} fresh rounds: "
                         + (f"not settled further, the run of {again['rounds']} more rounds failed: {again['error']}" if again["error"] else
                            f"{again['rounds']} more rounds of " + "; ".join(again["configurations"])))
        if d["tuning_file"]:
            lines.append(f"tuning file: {d['tuning_file']}" + (" (emulated: runtime.open never uses it)" if d["emulated"] else ""))
        lines += [f"{k}  {v}" for k, v in self.goal_rows() + self.check_rows()]
        return "\n".join(lines)


def _references(bundle: runtime.Bundle, evaluation: EvaluationSet, artifacts: Sequence[str], threads: int) -> Dict[str, Outputs]:
    """This host's fp32 runtime outputs ("fp32"), and the exact int8 outputs of each int8 file a candidate is held to."""
    refs = {"fp32": run_groups(runtime.open(bundle, backend="onnxruntime", precision="fp32", threads=threads).predict, evaluation)}
    for name in sorted(set(artifacts)):
        try:
            refs[name] = run_groups(artifact_runner(bundle, name, threads), evaluation)
        except NoEngineHere:
            pass  # no exact reference for this file here: its candidates cannot be judged, so they are not chosen
    return refs


def _judge(c: Candidate, outputs: Outputs, reference: Optional[Outputs], fp32: Outputs, manifest: runtime.Manifest,
           evaluation: EvaluationSet) -> Tuple[Dict[str, float], List[str]]:
    """A candidate's parity values and what it failed; a candidate no check applies to fails (nothing vouches for it)."""
    if reference is None:
        return {}, ["no exact int8 reference for its file here"]
    values = answer_values(c.precision, outputs, reference, manifest, evaluation)
    if c.precision == "int8" and evaluation.truth is not None:
        lost = drops(task_scores(outputs, manifest, evaluation), task_scores(fp32, manifest, evaluation))
        values.update({f"int8_{k}": v for k, v in lost.items()})
    checks = judge(values, TOLERANCES)
    if not checks:
        return values, ["no parity check applies (an int8 text or regression model needs labelled --data)"]
    return values, [check.name for check in checks if not check.passed]


def _rows(found: Sequence[Candidate], ran: TuneRun, bundle: runtime.Bundle, untuned: Dict[str, str],
          evaluation: EvaluationSet, threads: int) -> List[Dict[str, Any]]:
    """Each candidate as the report lists it: what it is, what the board said, its parity values and median calls."""
    said = ran.info["candidates"]
    held_to = {c.tag: exact_int8_file(bundle.manifest, said[c.tag]["artifact"]) for c in found if c.precision == "int8" and c.tag in ran.outputs}
    refs = _references(bundle, evaluation, list(held_to.values()), threads)
    rows = []
    for c in found:
        row: Dict[str, Any] = {**c.plan(), "what": c.describe(), "error": said[c.tag]["error"],
                               "dropped_at_rung": said[c.tag].get("dropped_at_rung"), "passed": None,
                               "untuned_for": sorted(k for k, t in untuned.items() if t == c.tag)}
        if not row["error"]:
            row.update(artifact=said[c.tag]["artifact"],
                       latency_us={str(b): {"p50": float(np.median(s) * 1e6), "p90": float(np.percentile(s, 90) * 1e6), "calls": len(s)}
                                   for b, s in ran.seconds[c.tag].items()})
        if c.tag in ran.outputs:
            reference = refs["fp32"] if c.precision == "fp32" else refs.get(held_to[c.tag])
            values, failed = _judge(c, ran.outputs[c.tag], reference, refs["fp32"], bundle.manifest, evaluation)
            row.update(values=values, failed=failed, passed=not failed)
        rows.append(row)
    return rows


def pick(rows: Sequence[Dict[str, Any]], batches: Sequence[int]) -> Dict[int, Dict[str, str]]:
    """Per batch size and precision: the tag of the passing candidate with the lowest median call."""
    passing = [r for r in rows if r.get("passed") and all(str(b) in r["latency_us"] for b in batches)]
    picks: Dict[int, Dict[str, str]] = {}
    for b in batches:
        for key in ("fp32", "int8"):
            pool = [r for r in passing if r["precision"] == key]
            if pool:
                picks.setdefault(b, {})[key] = min(pool, key=lambda r: r["latency_us"][str(b)]["p50"])["tag"]
    return picks


# per configuration and batch size, the call times of each fresh round (time_in_rounds' blocks, in order)
Rounds = Dict[str, Dict[int, List[np.ndarray]]]
Contest = Tuple[int, str, str]  # batch size, the untuned configuration, the pick held against it


def by_round(seconds: Dict[str, Dict[int, np.ndarray]], rounds: int) -> Rounds:
    """A confirmation run's call times split into its rounds (time_in_rounds times the same calls in each)."""
    return {tag: {b: np.split(np.asarray(t), rounds) for b, t in per.items()} for tag, per in seconds.items()}


@dataclasses.dataclass(frozen=True)
class Fresh:
    """The confirmation rounds: `first` of every pick and untuned configuration, `more` of the configurations of the
    contests `first` left open (`extended`), timed in a later run."""

    first: Rounds
    more: Rounds = dataclasses.field(default_factory=dict)
    extended: FrozenSet[Contest] = frozenset()

    def paired(self, b: int, base: str, tag: str) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """The rounds that decide a contest: the first run's, and the later run's for an extended contest."""
        slow, fast = list(self.first[base][b]), list(self.first[tag][b])
        if (b, base, tag) in self.extended:
            slow, fast = slow + list(self.more[base][b]), fast + list(self.more[tag][b])
        return slow, fast

    def p50_us(self, tag: str, b: int) -> float:
        """The median call on the first run, which timed every configuration in the same rounds."""
        return float(np.median(np.concatenate(self.first[tag][b])) * 1e6)


def _against_untuned(tag: str, base: Optional[str], b: int, passed: Sequence[str], fresh: Fresh) -> Dict[str, Any]:
    """A pick replaces the untuned configuration only where its speed-up over it on the fresh rounds has an interval
    (Ratio.of the per-round ratios) clear of 1; an untuned configuration that failed parity is never kept."""
    entry: Dict[str, Any] = {"pick": tag, "untuned": base, "chosen": tag, "untuned_over_pick": None}
    if base in passed and base != tag:
        ratio = Ratio.of(round_ratios(*fresh.paired(b, base, tag)))
        entry.update(untuned_over_pick=ratio.to_dict(), chosen=tag if ratio.low > 1.0 else base)
    entry["switched"] = entry["chosen"] != base
    entry["p50_us"] = fresh.p50_us(entry["chosen"], b)
    return entry


def decide(picks: Dict[int, Dict[str, str]], untuned: Dict[str, str], passed: Sequence[str],
           fresh: Fresh, int8_ruled_out: bool = False) -> Dict[int, Dict[str, Dict[str, Any]]]:
    """Per batch size: each precision's pick against its untuned configuration (_against_untuned), then either precision
    (ANY): the two precisions' own choices (fp32's alone where `int8_ruled_out`: the bundle's scores rule its int8 file
    out of auto, PrecisionRule.rules_int8_out) contend against the untuned configuration of `precision="auto"`, so that the
    choice for either is never a configuration that a precision's own choice was preferred to. Of the contenders that
    clear it, the one with the lowest median on the first fresh rounds; if none does, the untuned one stays. Either's
    entry lists its contenders."""
    decided: Dict[int, Dict[str, Dict[str, Any]]] = {}
    for b, per in picks.items():
        out = decided.setdefault(b, {})
        for key, tag in per.items():
            out[key] = _against_untuned(tag, untuned.get(key), b, passed, fresh)
        base = untuned.get(ANY)
        others = [t for t in dict.fromkeys(e["chosen"] for k, e in out.items() if k == "fp32" or not int8_ruled_out) if t != base]
        contenders = [_against_untuned(t, base, b, passed, fresh) for t in others or [base]]
        cleared = [e for e in contenders if e["switched"]]
        out[ANY] = {**min(cleared or contenders, key=lambda e: fresh.p50_us(e["pick"], b)), "contenders": contenders}
    return decided


def open_contests(decided: Dict[int, Dict[str, Dict[str, Any]]]) -> List[Contest]:
    """Every contest the fresh rounds left open: the pick faster than the untuned configuration by the median of the
    per-round ratios, the interval of that median reaching 1; more rounds may settle it."""
    found: Set[Contest] = set()
    for b, per in decided.items():
        for key, entry in per.items():
            for c in entry["contenders"] if key == ANY else (entry,):
                ratio = c["untuned_over_pick"]
                if ratio is not None and ratio["value"] > 1.0 >= ratio["interval"][0]:
                    found.add((b, c["untuned"], c["pick"]))
    return sorted(found)


def settle(picks: Dict[int, Dict[str, str]], untuned: Dict[str, str], passed: Sequence[str], first: Rounds,
           more: Callable[[Sequence[str]], Rounds], int8_ruled_out: bool = False
           ) -> Tuple[Dict[int, Dict[str, Dict[str, Any]]], Optional[Dict[str, Any]]]:
    """decide() on the first fresh rounds; where that leaves contests open, `more(tags)` times their configurations in
    more rounds, once, and each open contest is decided on all of its rounds, every other one on the first run's (a
    contest that appears only then, either precision's when a precision's choice changed, too). Also what was timed
    again (None if nothing): a run that fails leaves the first decision, with its error."""
    decided = decide(picks, untuned, passed, Fresh(first), int8_ruled_out)
    contests = open_contests(decided)
    if not contests:
        return decided, None
    tags = sorted({t for _, base, tag in contests for t in (base, tag)})
    again: Dict[str, Any] = {"contests": contests, "configurations": tags, "rounds": MORE_ROUNDS, "error": None}
    try:
        extra = more(tags)
    except PaddleEdgeError as e:
        return decided, {**again, "error": str(e)}
    return decide(picks, untuned, passed, Fresh(first, extra, frozenset(contests)), int8_ruled_out), again


def _tuning_path(bundle_path: Path, board: Board) -> Path:
    """The board's tuning file beside the bundle; an emulated board's is apart, so it never replaces the real board's."""
    return tuning_dir(bundle_path) / f"{board.profile.name}{'.emulated' if board.emulated else ''}.json"


def _write(tuning: Tuning, path: Path) -> None:
    """The tuning file, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(tuning.to_dict(), indent=2))


def tune(board: Board, bundle_path: Path, names: Sequence[str] = TUNED_BACKENDS, threads: Optional[Sequence[int]] = None,
         batches: Sequence[int] = (1, 64), calls: int = 200, limit: Optional[int] = DEFAULT_LIMIT, data: Optional[Path] = None,
         shapes: Optional[Dict[str, Sequence[int]]] = None, keep: Optional[int] = KEEP) -> TuneReport:
    """Time every candidate on the board (halving down to `keep` per race; None: all to the end), judge the
    survivors' parity here, confirm each pick against the untuned configuration, and record the choices in the board's
    tuning file beside the bundle (removed if nothing passed)."""
    if keep is not None and keep < 1:
        raise PaddleEdgeError(f"keep={keep}: the halving must keep at least one candidate per race",
                              "give keep=1 or more, or keep=None for no halving (--keep 0 on the command line)")
    if not batches or min(batches) < 1:
        raise PaddleEdgeError(f"batch sizes {list(batches)} are not all positive", "give --batch like 1,64")
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    cores = board_cores(board)
    rule = runtime.default_precision(manifest, runtime.DEFAULT_BACKEND)
    found, untuned = candidates(manifest, names, threads or default_thread_counts(cores), cores, rule.precision, max(batches))
    evaluation = evaluation_set(manifest, data, limit, shapes)
    calls_per = {str(b): calls_for(b, calls) for b in batches}
    ran = run_tune_plan(board, bundle.root, evaluation.groups,
                        {"candidates": [c.plan() for c in found], "calls": calls_per, "rounds": SELECT_ROUNDS, "evaluate": True,
                         "keep": keep, "fixed": sorted(set(untuned.values()))})
    rows = _rows(found, ran, bundle, untuned, evaluation, cores)
    passed = [r["tag"] for r in rows if r.get("passed")]
    picks = pick(rows, batches)
    timed = sorted({t for per in picks.values() for t in per.values()} | {t for t in untuned.values() if t in passed}, key=lambda t: int(t[1:]))
    by_tag = {r["tag"]: r for r in rows}

    def fresh_rounds(tags: Sequence[str], rounds: int) -> Rounds:
        """`tags` timed alone on the board in `rounds` rounds, each of as many calls as a round of the first
        confirmation run, so that every round of a contest weighs the same."""
        per_round = {k: max(v, 2 * CONFIRM_ROUNDS) // CONFIRM_ROUNDS for k, v in calls_per.items()}
        seconds = run_tune_plan(board, bundle.root, evaluation.groups[:1],
                                {"candidates": [found[int(t[1:])].plan() for t in tags], "calls": {k: n * rounds for k, n in per_round.items()},
                                 "rounds": rounds, "evaluate": False}).seconds if tags else {}
        lost = [t for t in tags if set(seconds.get(t, {})) != set(batches)]
        if lost:
            raise PaddleEdgeError(f"{', '.join(by_tag[t]['what'] for t in lost)} ran in the first run but not in a confirmation run",
                                  "run tune again; if it repeats, leave that backend out with --backends")
        return by_round(seconds, rounds)

    decided, again = settle(picks, untuned, passed, fresh_rounds(timed, CONFIRM_ROUNDS), lambda tags: fresh_rounds(tags, MORE_ROUNDS),
                            rule.rules_int8_out)
    for per in decided.values():
        for entry in per.values():
            for e in (entry, *entry.get("contenders", ())):
                e.update({f"{k}_what": by_tag[e[k]]["what"] for k in ("pick", "chosen")})
    choices = {b: {key: Choice(by_tag[e["chosen"]]["backend"], by_tag[e["chosen"]]["precision"], by_tag[e["chosen"]]["threads"],
                               by_tag[e["chosen"]]["settings"], e["p50_us"], by_tag[e["chosen"]]["artifact"])
                   for key, e in per.items()} for b, per in decided.items()}
    tuning = Tuning(board.profile.name, board.emulated, bundle_sha256(bundle.root), ran.info["machine_key"], choices, provenance())
    path = _tuning_path(Path(bundle_path), board)
    if choices:
        _write(tuning, path)
    else:
        path.unlink(missing_ok=True)  # an older tuning must not outlive a run in which nothing passed
    goals = {f"tuned_vs_untuned_b{b}": (e["untuned_over_pick"]["value"], *e["untuned_over_pick"]["interval"]) if e["switched"] else (1.0, 1.0, 1.0)
             for b, per in decided.items() for key, e in per.items() if key == ANY and (e["untuned_over_pick"] or not e["switched"])}
    report = {"model": manifest.model, "board": board.profile.name, "emulated": board.emulated, "qemu_cpu": board.profile.emulation.qemu_cpu if board.emulated else None,
              "board_cpu": ran.info["cpu"]["label"], "board_info": {k: ran.info[k] for k in ("machine", "python", "versions", "machine_key")},
              "samples": evaluation.samples, "data": evaluation.description, "batches": list(batches), "calls": calls_per,
              "timed_shape": {name: list(x.shape[1:]) for name, x in evaluation.groups[0].items()},
              "keep": keep, "rungs": ran.info["rungs"],
              "bundle_sha256": tuning.bundle_sha256, "candidates": rows, "untuned": untuned,
              "confirmation": {str(b): per for b, per in decided.items()}, "either_rule": EITHER_RULE,
              "more_rounds": again and {**again, "contests": [{"batch": b, "untuned": by_tag[base]["what"], "pick": by_tag[tag]["what"]}
                                                           for b, base, tag in again["contests"]],
                                        "configurations": [by_tag[t]["what"] for t in again["configurations"]]},
              "choices": {str(b): {key: dataclasses.asdict(c) for key, c in per.items()} for b, per in choices.items()},
              "tuning_file": str(path) if choices else None, "provenance": tuning.measured}
    values = {"passing_candidates": float(len(passed))}
    if ANY in untuned:
        values["untuned_configuration_parity"] = float(untuned[ANY] in passed)
    return TuneReport.of(report, judge(values, CHECKS), judge_goals(goals, {name: GOAL for name in goals}))
