"""导出 — a table (header + rows) as .xlsx (openpyxl, numbers stay numbers) or .csv (UTF-8 with BOM)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return "" if value is None else value


def table(fmt: str, name: str, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """The download: ``fmt`` "csv" or "xlsx" (anything else: xlsx); ``name`` without extension."""
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows([["" if c is None else c for c in r] for r in rows])
        return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(list(header))
    for r in rows:
        ws.append([_cell(c) for c in r])
    out = io.BytesIO()
    wb.save(out)
    return Response(out.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
