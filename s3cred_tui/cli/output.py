"""How results are printed: JSON, and listings as they stream (JSON array, NL-JSON, CSV, TSV)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

from s3cred_tui.cli.common import EXIT_OK, stdout

EXTRA_COLUMN = "extra"


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def to_json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, default=_json_default, indent=indent, ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return to_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RecordWriter:
    """Writes pages of records as they arrive, in one of: json, nl, csv, tsv."""

    def __init__(self, out: IO[str], fmt: str = "json", fields: Sequence[str] = ()):
        self.out = out
        self.fmt = fmt
        self.preferred = list(fields)
        self.header: list[str] | None = None
        self._written = 0
        self._opened = False
        self._csv = None
        if fmt in ("csv", "tsv"):
            self._csv = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")

    def write_page(self, records: Iterable[dict[str, Any]]) -> None:
        records = list(records)
        if self.fmt == "json":
            if not self._opened:
                self.out.write("[")
                self._opened = True
            for record in records:
                self.out.write(("," if self._written else "") + "\n  " + to_json(record))
                self._written += 1
        elif self.fmt == "nl":
            for record in records:
                self.out.write(to_json(record) + "\n")
                self._written += 1
        else:
            if self.header is None and records:
                self._write_header(records)
            for record in records:
                self._write_row(record)
        self.out.flush()

    def _write_header(self, first_page: list[dict[str, Any]]) -> None:
        fields = list(self.preferred)
        for record in first_page:
            for key in record:
                if key not in fields:
                    fields.append(key)
        self.extra_column = EXTRA_COLUMN if EXTRA_COLUMN not in fields else "_" + EXTRA_COLUMN
        self.header = fields
        assert self._csv is not None
        self._csv.writerow([*fields, self.extra_column])

    def _write_row(self, record: dict[str, Any]) -> None:
        assert self._csv is not None and self.header is not None
        known = set(self.header)
        extra = {key: value for key, value in record.items() if key not in known}
        row = [_cell(record.get(field)) for field in self.header]
        row.append(to_json(dict(sorted(extra.items()))) if extra else "")
        self._csv.writerow(row)
        self._written += 1

    def close(self) -> None:
        """Complete the output of a listing that finished."""
        if self.fmt == "json":
            self.out.write(("\n]" if self._written else ("]" if self._opened else "[]")) + "\n")
        elif self.fmt in ("csv", "tsv") and self.header is None:
            self._write_header([])
        self.out.flush()


def listing_format(args: argparse.Namespace) -> str:
    for fmt in ("nl", "csv", "tsv"):
        if getattr(args, fmt, False):
            return fmt
    return "json"


def stream(args: argparse.Namespace, pages: Iterable[list[dict[str, Any]]], fields: Sequence[str]) -> int:
    """Print pages of records as they arrive, in the format the listing options chose."""
    writer = RecordWriter(stdout(), listing_format(args), fields)
    for page in pages:
        writer.write_page(page)
    writer.close()
    return EXIT_OK
