"""The plan document as a PDF (A4, pt-BR), drawn with fpdf2: no browser, no network.

fpdf2 over reportlab: it is pure Python with small dependencies (fontTools, Pillow, defusedxml), embeds
TrueType fonts as subsets, has font fallback and, through uharfbuzz, text shaping and the bidirectional
algorithm (Arabic, Hebrew); reportlab's open-source edition has neither shaping nor bidi.

Speed: fpdf2's own line breaking re-measures a line on every character (about 1.5 ms per paragraph),
far too slow for a thousand review notes. Text the main font covers entirely, in a script that needs no
shaping (nearly every text of a Brazilian school), is therefore broken into lines here, measured with
the font's width table, and drawn line by line with ``text()``; any other text (Chinese, Arabic, emoji,
a glyph the main font lacks) goes through ``multi_cell`` with the fallback fonts and the shaping engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import cast

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from fpdf.fonts import TTFFont

from eduautismo import resettable
from eduautismo.exports.cells import remove_illegal
from eduautismo.exports.labels import FREQUENCY_LABELS, PRIORITY_LABELS, STATUS_LABELS
from eduautismo.plan_document.schemas import CHART_MONTHS, MonthCount, PlanDocument, PlanSection, ReviewLine

FONT_DIR = Path(__file__).resolve().parent / "fonts"
MAIN_FONT = "dejavu"
MAIN_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Fallback fonts, in the order they are tried for a character the main font lacks. A document loads only
# those its texts need (parsing a font costs milliseconds, Droid's hundreds of them).
FALLBACK_FILES = {
    "droid": "DroidSansFallbackFull.ttf",  # Chinese, Japanese
    **{
        f"noto{script.lower()}": f"NotoSans{script}-Regular.ttf"
        for script in (
            "Devanagari",
            "Bengali",
            "Gurmukhi",
            "Gujarati",
            "Tamil",
            "Telugu",
            "Kannada",
            "Malayalam",
            "Sinhala",
            "Thai",
            "Lao",
            "Khmer",
            "Myanmar",
            "Ethiopic",
        )
    },
    "symbola": "Symbola_hint.ttf",  # emoji and symbols, monochrome
}
# Right-to-left scripts (bidirectional order, Arabic joining) and scripts whose glyphs combine.
_NEEDS_SHAPING = re.compile(
    "[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
    "\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)

CREATOR = "EduAutismo Planos"
TITLE = "Plano de Intervenção Individual (PEI)"
LANGUAGE = "pt-BR"
CONFIDENTIAL = (
    "Documento confidencial: dados de saúde de criança ou adolescente (LGPD, arts. 11 e 14). "
    "Uso restrito à equipe escolar e à família."
)
MONTHS_PT = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")

MARGIN = 18.0  # mm, left, right and top
BOTTOM = 22.0  # mm kept free for the footer
BLACK = (33, 33, 33)
GREY = (110, 110, 110)
RED = (198, 40, 40)
GREEN = (46, 125, 50)
RULE = (200, 200, 200)
BODY, SMALL, TINY = 9.5, 8.5, 7.0  # font sizes, pt
LINE = 4.6  # mm, body line height
REVIEW_INDENT = 4.0  # mm
CHART_HEIGHT = 42.0  # mm, the bars' area


def clean(text: str) -> str:
    """Text as the PDF can hold it: no control or XML-illegal characters, one kind of line break, tabs as
    spaces."""
    return remove_illegal(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def local_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def month_label(month: date) -> str:
    return f"{MONTHS_PT[month.month - 1]}/{month:%y}"


def overdue_text(days: int) -> str:
    return f"atrasada há {days} dia" + ("" if days == 1 else "s")


def more_reviews_text(count: int) -> str:
    return f"e mais {count} revis" + ("ão" if count == 1 else "ões")


def age_text(years: int) -> str:
    return f"{years} ano" + ("" if years == 1 else "s")


def _nice_ceiling(value: int) -> int:
    """The chart's top: 1, 2, 5 or 10 times a power of ten, at least ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


@resettable.once(restore="keep")  # the font files never change
def _main_characters() -> frozenset[str]:
    """Characters both weights of the main font draw (read once per container)."""
    regular, bold = (_coverage(filename) for filename in MAIN_FILES.values())
    return frozenset(map(chr, regular & bold))


@resettable.once(restore="keep", maxsize=None)  # the font files never change
def _coverage(filename: str) -> frozenset[int]:
    """The code points a font file draws (its cmap), read once per container."""
    from fontTools.ttLib import TTFont

    with TTFont(FONT_DIR / filename, lazy=True) as font:
        return frozenset(font.getBestCmap())


class PlanDocumentPdf(FPDF):
    def __init__(self, document: PlanDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        self.student_name = clean(document.student_name)
        self.fallbacks: list[str] = []  # families of the fallback fonts loaded, in trial order
        self.word_units: dict[str, dict[str, float]] = {}
        self.wrapped: dict[tuple[str, float, float, str], list[str]] = {}
        self.current_style: tuple[float, bool, tuple[int, int, int]] | None = None
        self.simple_characters = _main_characters()
        for style, filename in MAIN_FILES.items():
            self.add_font(MAIN_FONT, style, str(FONT_DIR / filename))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=BOTTOM)
        self.set_title(TITLE)
        self.set_lang(LANGUAGE)
        self.set_creator(CREATOR)
        self.set_author(clean(document.organization_name))
        self.set_creation_date(document.generated_at)
        self.set_text_color(*BLACK)

    # ---- text: the fast path (main font, own line breaking) and the complete one (fpdf2's) ----

    def is_simple(self, text: str) -> bool:
        return set(text) <= self.simple_characters and not _NEEDS_SHAPING.search(text)

    def _load_fallbacks(self, text: str) -> None:
        """Add the fallback fonts that draw characters of ``text`` the main font lacks."""
        missing = {ord(char) for char in set(text) - self.simple_characters}
        added = False
        for family, filename in FALLBACK_FILES.items():
            if not missing:
                break
            drawn = missing & _coverage(filename)
            if drawn and family not in self.fallbacks:
                self.add_font(family, "", str(FONT_DIR / filename))
                self.fallbacks.append(family)
                added = True
            missing -= drawn
        if added:
            self.set_fallback_fonts(self.fallbacks, exact_match=False)

    @contextmanager
    def _complete_text(self, text: str) -> Iterator[None]:
        """fpdf2's full text path for one call: the fallback fonts it needs and the shaping engine."""
        self._load_fallbacks(text)
        self.set_text_shaping(True)
        try:
            yield
        finally:
            self.set_text_shaping(False)

    def _text_width(self, text: str) -> float:
        """Width in mm in the current font; a word's units are computed once per font (words repeat)."""
        font = cast(TTFFont, self.current_font)  # only TrueType fonts are ever set here
        known = self.word_units.setdefault(font.fontkey, {})
        units = known.get(text)
        if units is None:
            widths = font.cw
            units = known[text] = sum([widths[ord(char)] for char in text], 0.0)
        return units * self.font_size_pt * 0.001 / self.k

    def wrap(self, text: str, width: float) -> list[str]:
        """Greedy line breaking at spaces; a word longer than a line is cut where it overflows. Kept for
        the drawing that follows a measurement."""
        key = (self.font_family + self.font_style, self.font_size_pt, width, text)
        lines = self.wrapped.get(key)
        if lines is None:
            lines = self.wrapped[key] = self._wrap(text, width)
        return lines

    def _wrap(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        space = self._text_width(" ")
        for paragraph in text.split("\n"):
            words: list[str] = []
            used = 0.0
            for word in paragraph.split(" "):
                measured = self._text_width(word)
                if words and used + space + measured > width:
                    lines.append(" ".join(words))
                    words, used = [], 0.0
                while measured > width:
                    cut = self._fitting_prefix(word, width)
                    lines.append(word[:cut])
                    word = word[cut:]
                    measured = self._text_width(word)
                used += (space if words else 0.0) + measured
                words.append(word)
            lines.append(" ".join(words))
        return lines

    def _fitting_prefix(self, word: str, width: float) -> int:
        used = 0.0
        for index, char in enumerate(word):
            used += self._text_width(char)
            if used > width:
                return max(index, 1)
        return len(word)

    def paragraph_height(self, text: str, width: float, line: float = LINE) -> float:
        if self.is_simple(text):
            return len(self.wrap(text, width)) * line
        with self._complete_text(text):
            height = self.multi_cell(width, line, text, dry_run=True, output=MethodReturnValue.HEIGHT)
        return cast(float, height)

    def paragraph(self, text: str, indent: float = 0.0, line: float = LINE) -> None:
        """``text`` from the left margin (+ ``indent``) to the right margin, breaking pages as needed."""
        width = self.epw - indent
        if not self.is_simple(text):
            self.set_x(self.l_margin + indent)
            with self._complete_text(text):
                self.multi_cell(width, line, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        for text_line in self.wrap(text, width):
            if self.y + line > self.page_break_trigger:
                self.add_page()
            if text_line:
                self.text(self.l_margin + indent, self.y + line * 0.5 + self.font_size * 0.35, text_line)
            self.y += line

    def style(self, size: float, bold: bool = False, color: tuple[int, int, int] = BLACK) -> None:
        if (size, bold, color) != self.current_style:
            self.set_font(MAIN_FONT, "B" if bold else "", size)
            self.set_text_color(*color)
            self.current_style = (size, bold, color)

    # ---- page furniture ----

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.style(TINY, color=GREY)
        self.set_y(MARGIN - 8)
        self.paragraph(f"{TITLE} · {self.student_name}")
        self.set_y(MARGIN)
        self.current_style = None  # fpdf2 restores the font of before the page break

    def footer(self) -> None:
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.h - 17, self.w - MARGIN, self.h - 17)
        self.style(TINY, color=GREY)
        self.text(MARGIN, self.h - 13, CONFIDENTIAL)
        generated = f"Gerado em {self.document.generated_at:%d/%m/%Y %H:%M} ({self.document.timezone})"
        self.text(MARGIN, self.h - 9.5, generated)
        # cell(), not text(): fpdf2 replaces the page-count alias {nb} only in cells.
        self.set_xy(MARGIN, self.h - 12)
        self.cell(self.epw, 3.5, f"Página {self.page_no()} de {{nb}}", align="R")
        self.current_style = None  # fpdf2 restores the font of before the page break

    # ---- content ----

    def cover(self) -> None:
        document = self.document
        self.style(16, bold=True)
        self.paragraph(TITLE, line=8)
        self.style(11)
        self.paragraph(clean(document.organization_name), line=6)
        self.ln(2)
        self.style(12, bold=True)
        self.paragraph(f"Aluno(a): {self.student_name}", line=6)
        self.style(BODY)
        if document.birth_date is None:
            born = "Data de nascimento: não informada"
        else:
            age = "" if document.age_years is None else f" ({age_text(document.age_years)})"
            born = f"Data de nascimento: {local_date(document.birth_date)}{age}"
        self.paragraph(born)
        self.paragraph(f"Gerado em {document.generated_at:%d/%m/%Y às %H:%M} ({document.timezone})")
        self.paragraph(f"Planos neste documento: {len(document.plans)}")
        self.ln(3)

    def chart(self, months: list[MonthCount]) -> None:
        """Reviews per month, stacked on time (green) under late (red), drawn as vector rectangles; the
        counts are written under each month."""
        self.style(11, bold=True)
        self.paragraph(f"Revisões por mês (últimos {CHART_MONTHS} meses)", line=6)
        self.style(TINY, color=GREY)
        self.paragraph(
            "No prazo: registrada até a data prevista (revisão anterior ou início do plano, mais a "
            "frequência). Sob cada mês: no prazo · atrasadas."
        )
        self._legend()
        top = self.y + 3
        axis = 10.0
        left = MARGIN + axis
        width = self.epw - axis
        slot = width / len(months)
        ceiling = _nice_ceiling(max([month.on_time + month.late for month in months] + [1]))
        scale = CHART_HEIGHT / ceiling
        bottom = top + CHART_HEIGHT
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.style(TINY, color=GREY)
        for value in (0, ceiling // 2, ceiling) if ceiling % 2 == 0 else (0, ceiling):
            y = bottom - value * scale
            self.line(left, y, left + width, y)
            label = str(value)
            self.text(left - 1.5 - self._text_width(label), y + 1.0, label)
        for index, month in enumerate(months):
            x = left + index * slot + slot * 0.2
            bar = slot * 0.6
            on_time_height = month.on_time * scale
            late_height = month.late * scale
            if on_time_height:
                self.set_fill_color(*GREEN)
                self.rect(x, bottom - on_time_height, bar, on_time_height, style="F")
            if late_height:
                self.set_fill_color(*RED)
                self.rect(x, bottom - on_time_height - late_height, bar, late_height, style="F")
            self.style(TINY, color=BLACK)
            label = month_label(month.month)
            centre = left + index * slot + slot / 2
            self.text(centre - self._text_width(label) / 2, bottom + 3.5, label)
            counts = f"{month.on_time} · {month.late}"
            self.style(TINY, color=GREY)
            self.text(centre - self._text_width(counts) / 2, bottom + 7, counts)
        self.set_fill_color(255, 255, 255)
        self.set_y(bottom + 11)

    def _legend(self) -> None:
        y = self.y + 1
        x = MARGIN
        for colour, label in ((GREEN, "No prazo"), (RED, "Atrasadas")):
            self.set_fill_color(*colour)
            self.rect(x, y, 3, 3, style="F")
            self.style(TINY)
            self.text(x + 4.5, y + 2.5, label)
            x += 8 + self._text_width(label)
        self.set_fill_color(255, 255, 255)
        self.y = y + 3

    def _plan_fields(self, plan: PlanSection) -> list[str]:
        return [
            f"Status: {STATUS_LABELS[plan.status]}    Prioridade: {PRIORITY_LABELS[plan.priority]}    "
            f"Frequência de revisão: {FREQUENCY_LABELS[plan.review_frequency]}",
            f"Início: {local_date(plan.start_date)}    Responsável: {clean(plan.professional_name)}",
        ]

    def _next_review(self, plan: PlanSection) -> str:
        due = f"Próxima revisão: {local_date(plan.next_review_due)}"
        return f"{due} — {overdue_text(plan.days_overdue)}" if plan.days_overdue else due

    def _review_head(self, review: ReviewLine) -> str:
        return f"{local_date(review.reviewed_on)} · {clean(review.reviewer_name)}"

    def _review_notes(self, review: ReviewLine) -> str:
        return clean(review.notes) if review.notes and review.notes.strip() else "(sem anotações)"

    def _review_height(self, review: ReviewLine) -> float:
        self.style(SMALL, bold=True)
        height = self.paragraph_height(self._review_head(review), self.epw)
        self.style(SMALL)
        return height + self.paragraph_height(self._review_notes(review), self.epw - REVIEW_INDENT)

    def review(self, review: ReviewLine) -> None:
        """One review, its date and reviewer kept with its notes when they fit on a page."""
        height = self._review_height(review)
        if self.y + height > self.page_break_trigger and height <= self.page_break_trigger - self.t_margin:
            self.add_page()
        self.style(SMALL, bold=True)
        self.paragraph(self._review_head(review))
        self.style(SMALL)
        self.paragraph(self._review_notes(review), indent=REVIEW_INDENT)

    def _opening_height(self, plan: PlanSection) -> float:
        """The plan's heading (title, fields, description) and its first review: kept on one page."""
        width = self.epw
        self.style(12, bold=True)
        height = self.paragraph_height(clean(plan.title), width, 6) + 2
        self.style(BODY)
        for text in [*self._plan_fields(plan), self._next_review(plan), self._description(plan)]:
            height += self.paragraph_height(text, width)
        height += 2 + 6  # the history's heading
        return height + (self._review_height(plan.reviews[0]) if plan.reviews else LINE)

    def _description(self, plan: PlanSection) -> str:
        text = clean(plan.description or "").strip()
        return f"Descrição: {text}" if text else "Descrição: —"

    def plan(self, plan: PlanSection) -> None:
        opening = self._opening_height(plan)
        fits_a_page = opening <= self.page_break_trigger - self.t_margin
        if self.y + opening > self.page_break_trigger and (fits_a_page or self.y > self.t_margin + 1):
            self.add_page()
        self.style(12, bold=True)
        self.paragraph(clean(plan.title), line=6)
        self.ln(2)
        self.style(BODY)
        for text in self._plan_fields(plan):
            self.paragraph(text)
        self.style(BODY, bold=bool(plan.days_overdue), color=RED if plan.days_overdue else BLACK)
        self.paragraph(self._next_review(plan))
        self.style(BODY)
        self.paragraph(self._description(plan))
        self.ln(2)
        self.style(10, bold=True)
        self.paragraph(f"Histórico de revisões ({len(plan.reviews) + plan.more_reviews})", line=6)
        if not plan.reviews:
            self.style(SMALL, color=GREY)
            self.paragraph("Nenhuma revisão registrada.")
        for review in plan.reviews:
            self.review(review)
        if plan.more_reviews:
            self.style(SMALL, color=GREY)
            self.paragraph(more_reviews_text(plan.more_reviews))
        self.ln(3)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.y, self.w - MARGIN, self.y)
        self.ln(4)


def render(document: PlanDocument) -> bytes:
    """The document as PDF bytes."""
    pdf = PlanDocumentPdf(document)
    pdf.add_page()
    pdf.cover()
    pdf.chart(document.months)
    pdf.style(12, bold=True)
    pdf.paragraph("Planos de intervenção", line=7)
    pdf.ln(1)
    if not document.plans:
        pdf.style(BODY, color=GREY)
        pdf.paragraph("Nenhum plano neste documento.")
    for section in document.plans:
        pdf.plan(section)
    return bytes(pdf.output())
