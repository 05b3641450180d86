"""Reads the exporter's run report in a later digdag task (py>), for the rest of the workflow.

store_counts: stores the report's counts as the parameter `selligent_export` (digdag.env.store), so
later tasks can write ${selligent_export.loaded}, ${selligent_export.status}, ...
store_alert: the same, plus `selligent_export.summary` (one line for a person) and
`selligent_export.alert_json` (that line as a chat webhook's JSON body, {"text": ...}), for an _error:
task. A missing or unreadable report (the task failed before writing one) still gives a summary.

Runs on digdag's own Python (no docker: on the task), from the project directory, where the exporter
task left the report: .digdag/tmp/ with `digdag run`; set REPORT_PATH on the exporter task and
report_path here to a shared path when tasks run in separate workspaces (digdag server).
"""
import json

import digdag

DEFAULT_REPORT = ".digdag/tmp/selligent-export-report.json"


def _read(report_path):
    try:
        with open(report_path, encoding="utf-8") as file:
            return json.load(file), None
    except (OSError, ValueError) as error:
        return None, "no readable run report at {} ({})".format(report_path, error)


def counts(report, report_path):
    """The figures a workflow branches or reports on, from a parsed run report."""
    accounting = report.get("accounting") or {}
    segments = report.get("segments") or []
    error = report.get("error") or {}
    return {
        "report_path": report_path,
        "status": report["status"],
        "exit_code": report["exit_code"],
        "dry_run": report["dry_run"],
        "list": (report.get("selligent") or {}).get("list"),
        "input_rows": accounting.get("input_rows", (report.get("input") or {}).get("rows", 0)),
        "loaded": accounting.get("loaded", 0),
        "skipped": accounting.get("skipped", 0),
        "merged_duplicates": accounting.get("merged_duplicates", 0),
        "rejected": accounting.get("rejected", 0),
        "not_applied": accounting.get("not_applied", 0),
        "segments": len(segments),
        "segments_loaded": sum(1 for s in segments if s.get("status") in ("succeeded", "partial")),
        "members_loaded": sum(s.get("members_loaded", 0) for s in segments),
        "rows_file": (report.get("rejected_rows") or {}).get("file"),
        "error_code": error.get("code"),
    }


def summary(found, report=None):
    """One line: what happened, the counts, the error."""
    if report is None:
        return "selligent-export: " + found["problem"]
    line = "selligent-export: {status} (exit {exit_code}) - {input_rows} rows read, {loaded} loaded, {skipped} skipped, {merged_duplicates} duplicates merged, {rejected} rejected, {not_applied} not applied; {segments_loaded}/{segments} Segments loaded ({members_loaded} members)".format(**found)
    error = report.get("error")
    if error:
        message = " ".join(str(error.get("message", "")).split())
        line += "; error {} in {}: {}".format(error.get("code"), error.get("stage") or "run", message[:300])
    return line + "; report " + found["report_path"]


def store_counts(report_path=DEFAULT_REPORT):
    report, problem = _read(report_path)
    if report is None:
        raise RuntimeError(problem)
    digdag.env.store({"selligent_export": counts(report, report_path)})


def store_alert(report_path=DEFAULT_REPORT):
    report, problem = _read(report_path)
    found = counts(report, report_path) if report is not None else {"report_path": report_path, "problem": problem}
    line = summary(found, report)
    found["summary"] = line
    found["alert_json"] = json.dumps({"text": line})
    digdag.env.store({"selligent_export": found})
