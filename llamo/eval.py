"""Evaluation: accuracy per question kind on normalised labels, Mo-RepCount counting metrics,
caption BLEU-4 / ROUGE-L, a general-chat survival check, and real labelled motion.

Each conversation is replayed with `llamo.chat.ChatSession` exactly as the app asks it (greedy,
the model's own earlier answers stay in context), so the figures are what a user would see.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from llamo.conversation import MOTION_MARKER
from llamo.data.templates import normalise

# ---------------------------------------------------------------- text metrics (own implementation)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def bleu4(candidate: str, references: list[str]) -> float:
    """Sentence BLEU-4 with add-one smoothing on n-gram precisions (Lin & Och 2004)."""
    cand = _tokens(candidate)
    refs = [_tokens(r) for r in references]
    if not cand or not any(refs):
        return 0.0
    logp = 0.0
    for n in range(1, 5):
        grams = Counter(tuple(cand[i : i + n]) for i in range(len(cand) - n + 1))
        best: Counter = Counter()
        for r in refs:
            best |= Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
        hit = sum(min(c, best[g]) for g, c in grams.items())
        total = max(sum(grams.values()), 0)
        logp += math.log((hit + 1) / (total + 1)) / 4
    ref_len = min((abs(len(r) - len(cand)), len(r)) for r in refs)[1]
    bp = 1.0 if len(cand) > ref_len else math.exp(1 - ref_len / max(len(cand), 1))
    return bp * math.exp(logp)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 from the longest common subsequence of tokens."""
    a, b = _tokens(candidate), _tokens(reference)
    if not a or not b:
        return 0.0
    dp = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            cur = dp[j]
            dp[j] = prev + 1 if x == y else max(dp[j], dp[j - 1])
            prev = cur
    lcs = dp[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)


def count_metrics(pred: list[int | None], gold: list[int]) -> dict:
    """Mo-RepCount: OBZ (exact), OBO (within one), MAE normalised by the true count, RMSE.
    An unparseable answer counts as 0."""
    if not gold:
        return {}
    p = np.array([0 if x is None else x for x in pred], float)
    g = np.array(gold, float)
    err = np.abs(p - g)
    return {
        "n": len(g),
        "OBZ": float(np.mean(err == 0)),
        "OBO": float(np.mean(err <= 1)),
        "MAE": float(np.mean(err / np.maximum(g, 1))),
        "abs_MAE": float(np.mean(err)),
        "RMSE": float(np.sqrt(np.mean(err**2))),
        "unparsed": int(sum(x is None for x in pred)),
    }


# Words that betray a collapse into motion templates on plain (text-only) questions.
MOTION_TEMPLATE_WORDS = re.compile(
    r"the person is|repetitions?|the motion|the clip|squats?|jumping jacks|can't tell from the motion", re.I
)


# ---------------------------------------------------------------- evaluating a JSONL


def _question(text: str) -> str:
    return text.replace(MOTION_MARKER, "").strip()


def evaluate(
    model,
    data,
    *,
    limit: int | None = None,
    max_new_tokens: int = 48,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Replay every QA in `data` (llamo.data.instructions.InstructionData) and score it."""
    from llamo.chat import ChatSession

    n = len(data) if limit is None else min(limit, len(data))
    per_kind: dict[str, list[bool]] = defaultdict(list)
    count_pred, count_gold = [], []
    captions = {"bleu4": [], "rougeL": []}
    chat = {"rougeL_vs_backbone": [], "collapsed": []}
    input_tokens, latency = [], []
    heads = {"sequence": [], "count_exact": [], "count_obo": []}
    examples: dict[str, list] = defaultdict(list)
    start = time.perf_counter()
    for i in range(n):
        conv = data.conversations[i]
        motion = data.motion(i)
        qa = {q["turn"]: q for q in conv.meta.get("qa", [])}
        session = ChatSession(model, motion)
        labels = (motion.meta or {}).get("labels") if motion is not None else None
        if labels and model.summary is not None:
            session.prepare()  # the encoding the first question would do anyway
            _score_summary(model.motion_summary(session.state), labels["segments"], heads)
        for t, turn in enumerate(conv.turns):
            if turn.role != "user":
                continue
            gold = conv.turns[t + 1].text if t + 1 < len(conv.turns) else ""
            q0 = time.perf_counter()
            answer = "".join(session.ask(_question(turn.text), max_new_tokens=max_new_tokens)).strip()
            latency.append(time.perf_counter() - q0)
            input_tokens.append(session.last_turn.timings.get("input_tokens", 0))
            info = qa.get(t + 1)
            if info is None:
                continue
            kind, label = info["kind"], info["label"]
            if kind == "chat":
                chat["rougeL_vs_backbone"].append(rouge_l(answer, gold))
                chat["collapsed"].append(bool(MOTION_TEMPLATE_WORDS.search(answer)))
                ok = None
            elif kind == "caption":
                captions["bleu4"].append(bleu4(answer, [gold]))
                captions["rougeL"].append(rouge_l(answer, gold))
                ok = None
            else:
                pred = normalise(kind, answer)
                if kind == "count":
                    count_pred.append(pred)
                    count_gold.append(int(label))
                ok = pred == label
                per_kind[kind].append(bool(ok))
                if kind == "count" and labels and len(labels["segments"]) > 1:
                    per_kind["count_in_sequence"].append(bool(ok))  # the asked action among others
            if len(examples[kind]) < 4:
                examples[kind].append({"q": _question(turn.text), "gold": gold, "answer": answer, "ok": ok})
        if progress:
            el = time.perf_counter() - start
            progress(
                (i + 1) / n, f"{i + 1}/{n} conversations, {el:.0f}s, ETA {el / (i + 1) * (n - i - 1):.0f}s"
            )
    accuracy = {k: float(np.mean(v)) for k, v in sorted(per_kind.items())}
    report = {
        "conversations": n,
        "questions": len(latency),
        "accuracy": accuracy,
        "n_per_kind": {k: len(v) for k, v in sorted(per_kind.items())},
        "count": count_metrics(count_pred, count_gold),
        "caption": {k: float(np.mean(v)) for k, v in captions.items() if v},
        "n_captions": len(captions["bleu4"]),
        "mean_input_tokens": float(np.mean(input_tokens)) if input_tokens else 0.0,
        "mean_latency_s": float(np.mean(latency)) if latency else 0.0,
        "seconds": round(time.perf_counter() - start, 1),
        "examples": dict(examples),
    }
    if heads["sequence"]:
        report["summary_tokens"] = {
            "clips": len(heads["sequence"]),
            "sequence_exact": float(np.mean(heads["sequence"])),
            "counted_segments": len(heads["count_exact"]),
            "count_exact": float(np.mean(heads["count_exact"])) if heads["count_exact"] else 0.0,
            "count_obo": float(np.mean(heads["count_obo"])) if heads["count_obo"] else 0.0,
        }
    if chat["collapsed"]:
        report["chat"] = {
            "n": len(chat["collapsed"]),
            "rougeL_vs_backbone": float(np.mean(chat["rougeL_vs_backbone"])),
            "collapse_rate": float(np.mean(chat["collapsed"])),
        }
    return report


def _score_summary(table: list[dict], segments: list[dict], into: dict) -> None:
    """What the summary tokens told the LLM against the generator's labels: the clip's actions
    in order, and each counted segment's repetitions (the encoder side of a counting answer)."""
    into["sequence"].append([r["action"] for r in table] == [seg["action"] for seg in segments])
    for seg in segments:
        if seg.get("reps") and seg["action"] != "other":
            row = next((r for r in table if r["action"] == seg["action"]), None)
            got = round(row["count"]) if row else 0
            into["count_exact"].append(got == seg["reps"])
            into["count_obo"].append(abs(got - seg["reps"]) <= 1)


# ---------------------------------------------------------------- real motion

BANDAI_LABELS = {
    "walk": "walk",
    "walk-back": "walk",
    "walk-left": "walk",
    "walk-right": "walk",
    "run": "run",
    "dash": "run",
    "bye": "wave",
    "byebye": "wave",
    "bow": "bow",
    "punch": "punch",
    "kick": "kick",
}


def bandai_label(name: str) -> str | None:
    m = re.match(r"dataset-1_(.+?)_normal", name)
    return BANDAI_LABELS.get(m.group(1)) if m else None


SQUAT_NAMED = "How many squats does the person do?"
SQUAT_NEUTRAL = "How many repetitions does the person do?"


def evaluate_real(
    model, mocap_dir: str | Path | None, squat_video: str | Path | None, cache_dir: Path | None = None
) -> dict:
    """Action accuracy on labelled Bandai-Namco BVH files (evaluation only, CC BY-NC), and what the
    model says about the shared squat video: the action, and the count asked two ways (naming the
    squats, and without naming the action, as a user who does not know would ask)."""
    from llamo.chat import answer as ask_once
    from llamo.importers import load_motion
    from llamo.model.summary import summary_text

    out: dict = {}
    question = "What is the person doing?"
    if mocap_dir and Path(mocap_dir).is_dir():
        rows = []
        for path in sorted(Path(mocap_dir).glob("*.bvh")):
            gold = bandai_label(path.name)
            if gold is None:
                continue
            motion = load_motion(path, fps=20.0)
            if motion.duration > 30:
                motion = motion.slice(0, int(30 * motion.fps))
            ans = ask_once(model, motion, question, max_new_tokens=32).answer
            pred = normalise("action", ans)
            row = {"file": path.name, "gold": gold, "answer": ans, "pred": pred, "ok": pred == gold}
            if model.summary is not None:
                row["summary"] = summary_text(model.motion_summary(model.encode_motion(motion)))
            rows.append(row)
        if rows:
            out["bandai"] = {
                "accuracy": float(np.mean([r["ok"] for r in rows])),
                "n": len(rows),
                "files": rows,
            }
    if squat_video and Path(squat_video).is_file():
        cached = cache_dir / "pose_squats.npz" if cache_dir else None
        if cached is not None and cached.is_file():
            from llamo.motion import Motion

            motion = Motion.load(cached)
        else:
            motion = load_motion(squat_video)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                motion.save(cached)
        res = {}
        for q in ("What is the person doing?", SQUAT_NAMED, SQUAT_NEUTRAL):
            res[q] = ask_once(model, motion, q, max_new_tokens=32).answer
        try:
            from llamo.kinematics import count_repetitions

            res["kinematics_count"] = int(count_repetitions(motion).count)
        except Exception as exc:  # noqa: BLE001 - a missing or failing detector must not sink the report
            res["kinematics_count"] = f"unavailable ({type(exc).__name__})"
        res["model_count"] = normalise("count", res[SQUAT_NAMED])
        res["model_count_action_not_named"] = normalise("count", res[SQUAT_NEUTRAL])
        if model.summary is not None:
            table = model.motion_summary(model.encode_motion(motion))
            res["summary_tokens"] = summary_text(table)
        out["squat_video"] = res
    return out


# ---------------------------------------------------------------- markdown


def markdown(report: dict, title: str = "LLaMo evaluation") -> str:
    lines = [f"# {title}", ""]
    if "model" in report:
        d = report.get("describe") or {}
        grounded = ", ".join(d.get("grounded", [])) or "none"
        lines += [f"Model: `{report['model']}`  ", f"Data: `{report.get('data', '')}`  ",
                  f"Action checks (llamo/action_checks.py): {d.get('action_checks', 'off')}  ",
                  f"Grounded answers (llamo/grounding.py): {grounded}", ""]  # fmt: skip
    syn = report.get("synthetic") or {}
    if syn:
        lines += ["| question kind | accuracy | n |", "|---|---|---|"]
        for k, v in syn["accuracy"].items():
            lines.append(f"| {k} | {v:.1%} | {syn['n_per_kind'][k]} |")
        c = syn.get("count") or {}
        if c:
            lines += [
                "",
                "| counting | OBZ | OBO | MAE (normalised) | RMSE | n |",
                "|---|---|---|---|---|---|",
                f"| repetitions | {c['OBZ']:.3f} | {c['OBO']:.3f} | {c['MAE']:.3f} | {c['RMSE']:.2f} | {c['n']} |",
            ]
        if syn.get("caption"):
            lines += ["", f"Captions: BLEU-4 {syn['caption']['bleu4']:.3f}, ROUGE-L {syn['caption']['rougeL']:.3f} "
                      f"({syn['n_captions']} captions)."]  # fmt: skip
        lines += ["", f"Mean LLM input tokens per question: {syn['mean_input_tokens']:.0f}; "
                  f"mean latency per answer: {syn['mean_latency_s']:.2f} s."]  # fmt: skip
    heads = syn.get("summary_tokens")
    if heads:
        lines += ["", f"Summary tokens against the labels ({heads['clips']} clips): action sequence exact "
                  f"{heads['sequence_exact']:.0%}; repetition count exact {heads['count_exact']:.0%}, within one "
                  f"{heads['count_obo']:.0%} ({heads['counted_segments']} counted segments)."]  # fmt: skip
    chat = report.get("chat")
    if chat:
        lines += ["", f"General chat ({chat['n']} held-out prompts): ROUGE-L against the bare backbone's answers "
                  f"{chat['rougeL_vs_backbone']:.3f}; answers collapsing into motion templates: {chat['collapse_rate']:.0%}."]  # fmt: skip
    real = report.get("real") or {}
    if "bandai" in real:
        b = real["bandai"]
        lines += ["", f"## Real motion capture (Bandai-Namco dataset-1, evaluation only): {b['accuracy']:.0%} of {b['n']}", "",
                  "| file | label | answer | ok | summary tokens |", "|---|---|---|---|---|"]  # fmt: skip
        for r in b["files"]:
            lines.append(
                f"| {r['file']} | {r['gold']} | {r['answer'][:70]} | {'yes' if r['ok'] else 'no'} "
                f"| {r.get('summary', '')} |"
            )
    if "squat_video" in real:
        s = real["squat_video"]
        lines += ["", "## The shared squat video (pose_squats.mp4)", ""]
        for k, v in s.items():
            lines.append(f"- {k}: {v}")
    return "\n".join(lines) + "\n"


def write_report(report: dict, path: str | Path) -> tuple[Path, Path]:
    from llamo.fileio import atomic_path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=2, default=str))
    md = path.with_suffix(".md")
    with atomic_path(md) as tmp:
        Path(tmp).write_text(markdown(report))
    return path, md
