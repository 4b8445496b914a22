#!/usr/bin/env python3
"""Regenerates daemon/model/country_table.inc from Debian's iso-codes package (apt-get install iso-codes)."""
import json
import pathlib

SRC = "/usr/share/iso-codes/json/iso_3166-1.json"
DST = pathlib.Path(__file__).resolve().parent.parent / "daemon/model/country_table.inc"


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


rows = sorted(json.load(open(SRC, encoding="utf-8"))["3166-1"], key=lambda c: c["alpha_2"])
lines = [
    f"// Generated from Debian's iso-codes ({SRC}, ISO 3166-1).",
    '// Columns: alpha-2, alpha-3, English short name, official name (or ""), common name (or "").',
    "// Regenerate with scripts/gen-country-table.py; do not edit by hand.",
]
for c in rows:
    cols = [c["alpha_2"], c["alpha_3"], c["name"], c.get("official_name", ""), c.get("common_name", "")]
    lines.append("{" + ", ".join(quote(x) for x in cols) + "},")
DST.write_text("\n".join(lines) + "\n", encoding="utf-8")
