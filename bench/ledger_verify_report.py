"""The ``verify_receipts`` section of ``bench/reports/ledger.md``, from what ``bench/ledger_verify.py``
measured (the ``verify`` part of ``ledger.json``)."""

from __future__ import annotations


def markdown(verify: dict, command: str) -> str:
    """The report's section for ``verify`` (as ``run`` returns it)."""
    s, b = verify.get("seed") or {}, verify["breakdown"]
    rows = "\n".join(
        f"| {name} | **{summary['median_seconds']}** | {summary['min_seconds']} | {summary['max_seconds']} | "
        + ", ".join(
            f"{r['seconds']} ({r['load_average_before'][0]}; {r.get('machine_idle_percent_during', '?')} %)"
            for r in verify["runs"][name]
        )
        + f" | {verify['runs'][name][-1]['cpu_seconds']} |"
        for name, summary in verify["summary"].items()
    )
    parts = [
        f"## verify_receipts over {verify['receipts']} receipts\n\n`{command}`. ",
        f"Copies of a real decision receipt ({s.get('receipt_bytes', '?')} bytes of JSON), each with its own "
        f"ids and signature, signed and stored in {s.get('sign_and_store_seconds', '?')} s, appended by "
        f"`receipt_log_append` in {s.get('append_seconds', '?')} s. "
        f"{verify['rounds']} rounds, variants alternating; wall seconds of the whole process; in "
        "brackets the load average (1 min) before each run and the share of both CPUs left idle while it "
        "ran; CPU seconds of the last run's processes (PostgreSQL's not "
        f"counted). Load average after: {verify['load_average_after']}.\n",
        "| variant | median s | min | max | runs: s (load) | CPU s |\n|---|---|---|---|---|---|\n"
        + rows
        + "\n",
        "`startup`: `manage.py verify_receipts --tenant` of a tenant without receipts (Django start-up). "
        "`select`: the same rows and columns streamed by psycopg alone. Last line of a run: "
        f"`{verify['runs']['verify (workers auto)'][-1]['summary']}`\n",
        "In-process breakdown (one child, parts run one after another; wall seconds, per receipt in "
        "brackets, and CPU seconds of this process; PostgreSQL's CPU for the rows read from `/proc`):\n",
        "| part | wall s | CPU s |\n|---|---|---|\n"
        + "\n".join(
            f"| {name.replace('_', ' ')} | {value}"
            + (f" ({b['per_receipt_us'][name]} µs)" if name in b.get("per_receipt_us", {}) else "")
            + f" | {b.get('cpu_seconds', {}).get(name, '')} |"
            for name, value in b.items()
            if isinstance(value, float)
        )
        + f"\n| PostgreSQL, for the rows | | {b.get('cpu_seconds', {}).get('postgres_for_receipt_rows')} |\n",
    ]
    auto, floor = verify["summary"]["verify (workers auto)"], verify.get("floor")
    met = "met" if auto["median_seconds"] <= verify.get("target_seconds", 10) else "not met"
    parts.insert(
        1,
        f"**Target {verify.get('target_seconds', 10)} s: {met}** here (median {auto['median_seconds']} s, "
        f"workers auto). "
        + (
            f"Floor at this run's load: start-up {floor['startup_seconds']} s + the CPU of reading the rows "
            f"(client and PostgreSQL), making the signed bytes, Ed25519 and the leaf hashes, "
            f"{floor['work_cpu_seconds']} s, over {floor['workers']} workers = **{floor['seconds']} s**.\n"
            if floor
            else "\n"
        ),
    )
    return "\n".join(parts)
