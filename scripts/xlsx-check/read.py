"""Reads an export the way a user's tools would and prints what was understood
as JSON on stdout, for tests/exports.rs to compare with accord's JSON table.

    read.py xlsx FILE   openpyxl: per sheet its name, frozen pane, autofilter,
                        column widths, header font/fill, cell values (dates as
                        YYYY-MM-DD, numbers as numbers), number formats and
                        cell types (s text, n number, d date, f formula)
    read.py csv FILE    Python's csv module with encoding='utf-8-sig'
"""

import csv
import datetime
import json
import sys


def value(v):
    if isinstance(v, datetime.datetime):
        return v.date().isoformat() if v.time() == datetime.time() else v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


def read_xlsx(path):
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.load_workbook(path)
    sheets = []
    for ws in book.worksheets:
        rows, formats, types = [], [], []
        for row in ws.iter_rows():
            rows.append([value(c.value) for c in row])
            formats.append([c.number_format for c in row])
            # s: text, n: number, d: date, f: formula
            types.append([c.data_type for c in row])
        header = [ws.cell(row=1, column=i) for i in range(1, ws.max_column + 1)]
        sheets.append({
            "name": ws.title,
            "freeze_panes": ws.freeze_panes,
            "auto_filter": ws.auto_filter.ref,
            "widths": {
                get_column_letter(i): ws.column_dimensions[get_column_letter(i)].width
                for i in range(1, ws.max_column + 1)
            },
            "header_bold": all(c.font.bold for c in header),
            "header_fill": [c.fill.fgColor.rgb for c in header],
            "print_title_rows": ws.print_title_rows,
            "rows": rows,
            "formats": formats,
            "types": types,
        })
    return {"title": book.properties.title, "sheets": sheets}


def read_csv(path):
    with open(path, "rb") as f:
        bom = f.read(3) == b"\xef\xbb\xbf"
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return {"bom": bom, "rows": rows}


def main():
    kind, path = sys.argv[1], sys.argv[2]
    out = read_xlsx(path) if kind == "xlsx" else read_csv(path)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
