"""The CSV and XLSX files, read back: headers, formats, colours, widths, frozen header, summary."""

from __future__ import annotations

import uuid
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduautismo.domain import Priority
from eduautismo.exports.rows import BASE_HEADERS, RowFormatter
from eduautismo.exports.writers import (
    DATA_SHEET_TITLE,
    MAX_COLUMN_WIDTH,
    SUMMARY_SHEET_TITLE,
    SummaryInfo,
    write_csv,
    write_xlsx,
)
from tests.exports.conftest import export_row, read_csv, read_summary
from tests.exports.test_cells import ANY_TRIGGER, INJECTION_PAYLOADS, TRICKY_TEXT, without_leading_blanks

TIMEZONE = "America/Sao_Paulo"
INFO = SummaryInfo(filters=[("Prioridade", "Alta")], exported_at="25/11/2026 12:41 (America/Sao_Paulo)")


def test_csv_has_bom_pt_br_headers_and_dates_in_the_organization_timezone(tmp_path: Path) -> None:
    # Given a row reviewed at 01:30 UTC on 2 Nov (still 1 Nov in São Paulo), with its student
    plan_id = uuid.uuid4()
    row = export_row(Priority.HIGH, id=plan_id, student_name="Aluno Teste")
    path = tmp_path / "out.csv"
    # When it is written with the student column and the pt-BR Excel delimiter
    tally = write_csv([row], path, RowFormatter(TIMEZONE, include_student=True), ";")
    # Then the file reads back with the headers and the row in pt-BR
    lines = read_csv(path.read_bytes(), ";")
    assert lines[0] == [*BASE_HEADERS, "Aluno"]
    assert lines[1] == [
        "Alta",
        str(plan_id),
        "Plano de comunicação",
        "Rotina visual",
        "Ativo",
        "Semanal",
        "01/11/2026",
        "09/11/2026",
        "3",
        "Ana Souza",
        "01/10/2026",
        "Aluno Teste",
    ]
    assert tally.total == 1 and tally.by_priority[Priority.HIGH] == 1


def test_csv_neutralises_every_injection_payload_in_every_text_column(tmp_path: Path) -> None:
    # Given rows whose free-text fields carry formula payloads
    rows = [
        export_row(title=payload, description=payload, professional_name=payload, student_name=payload)
        for payload in INJECTION_PAYLOADS
    ]
    path = tmp_path / "out.csv"
    # When they are written (default delimiter)
    write_csv(rows, path, RowFormatter(TIMEZONE, include_student=True), ",")
    # Then no cell of the file starts with a trigger; each holds the payload behind an apostrophe
    lines = read_csv(path.read_bytes())
    for line, payload in zip(lines[1:], INJECTION_PAYLOADS, strict=True):
        assert [line[2], line[3], line[9], line[11]] == ["'" + payload] * 4
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) for line in lines for cell in line)


def test_empty_csv_is_a_valid_file_with_headers(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    tally = write_csv([], path, RowFormatter(TIMEZONE, include_student=False), ",")
    assert read_csv(path.read_bytes()) == [list(BASE_HEADERS)]
    assert tally.total == 0


def _rows_by_priority() -> list:
    return [
        export_row(Priority.HIGH, title="Alta 1"),
        export_row(Priority.HIGH, title="Alta 2"),
        export_row(Priority.MEDIUM, title="Média 1"),
        export_row(Priority.LOW, title="Baixa 1 " + "x" * 200),
    ]


def test_xlsx_formatting_read_back(tmp_path: Path) -> None:
    # Given two high, one medium and one low priority rows (one with a very long title)
    path = tmp_path / "out.xlsx"
    # When the workbook is written
    write_xlsx(_rows_by_priority(), path, RowFormatter(TIMEZONE, include_student=False), INFO)
    # Then the data sheet has a bold white header on blue, frozen, with an autofilter over every row
    sheet = openpyxl.load_workbook(path)[DATA_SHEET_TITLE]
    header = sheet[1]
    assert [cell.value for cell in header] == list(BASE_HEADERS)
    assert all(cell.font.b and cell.font.color.rgb == "00FFFFFF" for cell in header)
    assert all(cell.fill.fgColor.rgb == "004472C4" for cell in header)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:K5"
    # And priority cells are coloured red/yellow/green
    fills = {sheet.cell(row, 1).value: sheet.cell(row, 1).fill.fgColor.rgb for row in range(2, 6)}
    assert fills == {"Alta": "00FFC7CE", "Média": "00FFEB9C", "Baixa": "00C6EFCE"}
    # And the widths are fitted: the ID column fits a UUID, the long title column is capped
    widths = {col: sheet.column_dimensions[col].width for col in "ABCI"}
    assert widths["B"] == len(str(uuid.uuid4())) + 2
    assert widths["C"] == MAX_COLUMN_WIDTH
    assert widths["A"] == len("Prioridade") + 2
    assert widths["I"] == len("Dias em atraso") + 2
    # And numbers stay numbers
    assert sheet["I2"].value == 3


def test_xlsx_summary_totals_equal_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    rows = _rows_by_priority()
    tally = write_xlsx(rows, path, RowFormatter(TIMEZONE, include_student=False), INFO)
    workbook = openpyxl.load_workbook(path)
    summary = read_summary(workbook)
    data = [line[0] for line in workbook[DATA_SHEET_TITLE].iter_rows(min_row=2, values_only=True)]
    assert summary["Total de Planos:"] == len(data) == tally.total == 4
    assert summary["Alta Prioridade:"] == data.count("Alta") == 2
    assert summary["Média Prioridade:"] == data.count("Média") == 1
    assert summary["Baixa Prioridade:"] == data.count("Baixa") == 1
    assert summary["Data da Exportação:"] == INFO.exported_at
    assert summary["Prioridade:"] == "Alta"
    assert len(workbook[SUMMARY_SHEET_TITLE]._charts) == 1


@pytest.mark.parametrize("include_student", [False, True])
def test_empty_xlsx_is_a_valid_workbook_with_headers_and_zero_totals(
    tmp_path: Path, include_student: bool
) -> None:
    path = tmp_path / "out.xlsx"
    write_xlsx(
        [], path, RowFormatter(TIMEZONE, include_student), SummaryInfo(filters=[], exported_at="agora")
    )
    workbook = openpyxl.load_workbook(path)
    lines = list(workbook[DATA_SHEET_TITLE].iter_rows(values_only=True))
    assert lines == [(*BASE_HEADERS, *(["Aluno"] if include_student else []))]
    summary = read_summary(workbook)
    assert summary["Total de Planos:"] == 0
    assert "Nenhum" in summary


def test_xlsx_never_holds_a_formula_and_survives_illegal_characters(tmp_path: Path) -> None:
    # Given payloads in every text field, and a title with characters XML forbids
    rows = [
        export_row(title=payload, description=payload, professional_name=payload, student_name=payload)
        for payload in INJECTION_PAYLOADS
    ]
    rows.append(export_row(title="Plano\x00 da\x0b Ana\ud800", description="x" * 40_000))
    path = tmp_path / "out.xlsx"
    # When the workbook is written
    write_xlsx(rows, path, RowFormatter(TIMEZONE, include_student=True), INFO)
    # Then every cell is text, a number or a date: no formula anywhere, payloads kept behind an apostrophe
    sheet = openpyxl.load_workbook(path)[DATA_SHEET_TITLE]
    cells = [cell for line in sheet.iter_rows(min_row=2) for cell in line]
    assert all(cell.data_type in ("s", "n", "d") for cell in cells)
    for line, payload in zip(sheet.iter_rows(min_row=2, values_only=True), INJECTION_PAYLOADS, strict=False):
        # (XML parsers read a carriage return back as a line feed)
        assert [line[2], line[3], line[9], line[11]] == ["'" + payload.replace("\r", "\n")] * 4
    last = [cell.value for cell in sheet[len(rows) + 1]]
    assert last[2] == "Plano da Ana"
    assert len(last[3]) == 32_767 and last[3].endswith("[...texto cortado]")


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(TRICKY_TEXT, min_size=1, max_size=5))
def test_no_cell_of_either_format_reads_as_a_formula(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    # Given rows whose free-text fields are arbitrary text (whitespace, zero-width and triggers favoured)
    rows = [
        export_row(title=text, description=text, professional_name=text, student_name=text) for text in texts
    ]
    directory = tmp_path_factory.mktemp("cells")
    formatter = RowFormatter(TIMEZONE, include_student=True)
    # When both formats are written and read back
    write_csv(rows, directory / "out.csv", formatter, ";")
    write_xlsx(rows, directory / "out.xlsx", formatter, INFO)
    csv_cells = [cell for line in read_csv((directory / "out.csv").read_bytes(), ";") for cell in line]
    sheet = openpyxl.load_workbook(directory / "out.xlsx")[DATA_SHEET_TITLE]
    xlsx_cells = [
        cell for line in sheet.iter_rows(values_only=True) for cell in line if isinstance(cell, str)
    ]
    # Then no cell, once its leading whitespace and zero-width characters are skipped, starts a formula
    for cell in csv_cells + xlsx_cells:
        assert not without_leading_blanks(cell).startswith(ANY_TRIGGER), repr(cell)
        assert not cell.startswith(("\t", "\r", "\n")), repr(cell)
