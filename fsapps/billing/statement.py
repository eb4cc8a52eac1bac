"""A statement as files: CSV (one row per line, one per kind of usage the plan does not
price, then the total) and JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsapps.billing.rating import Statement

CSV_FIELDS = ("description", "component", "quantity", "unit", "unit_price", "weight", "amount", "records")


def to_json(st: Statement) -> str:
    def default(v: Any) -> Any:
        if isinstance(v, Decimal):
            return str(v)
        if hasattr(v, "isoformat"):
            return v.isoformat()
        raise TypeError(type(v))

    return json.dumps(asdict(st), default=default, indent=2, ensure_ascii=False) + "\n"


def to_csv(st: Statement) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for ln in st.lines:
        w.writerow([getattr(ln, f) for f in CSV_FIELDS])
    # Listed, never dropped: what was used and is not billed, with no price and no amount.
    for u in st.unrated:
        w.writerow([f"{u.resource} {u.kind}, not in the plan", "not billed", u.workload, u.unit, "", "", "",
                    u.records])  # fmt: skip
    w.writerow(["Total", "", "", "", "", "", st.total, st.records])
    return out.getvalue()


def write(st: Statement, directory: str | Path) -> tuple[Path, Path]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    stem = f"statement-{st.tenant_id}-{st.month}"
    csv_path, json_path = d / f"{stem}.csv", d / f"{stem}.json"
    csv_path.write_text(to_csv(st))
    json_path.write_text(to_json(st))
    return csv_path, json_path
