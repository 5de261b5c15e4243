"""The digest email in pt-BR, HTML and plain text, from templates. Every value is HTML-escaped when it is
put into the HTML (`fill`); only fragments these templates produced themselves are inserted as they are.
Only plan titles, dates, counts, professionals' names (coordinators) and links: never a student's name,
a plan's description or a review's notes."""

from __future__ import annotations

import html
from collections.abc import Mapping
from string import Template

SUBJECT = Template("EduAutismo: $summary")

HTML = Template("""<!DOCTYPE html>
<html lang="pt-BR">
<head><meta charset="utf-8"><title>$subject</title></head>
<body style="font-family: Arial, sans-serif; color: #222; max-width: 640px">
<h1 style="font-size: 20px">Resumo das revisões de planos</h1>
<p>Olá, $name. Este é o seu resumo de $date.</p>
$sections
<p>Você tem $unread notificações não lidas no EduAutismo Planos.</p>
<p><a href="$pending_url">Abrir a lista de revisões pendentes</a></p>
<hr>
<p style="font-size: 12px; color: #666">Você recebe este e-mail porque ativou o resumo por e-mail.
<a href="$unsubscribe_url">Cancelar o recebimento</a> ou altere suas preferências no aplicativo.</p>
</body>
</html>
""")

HTML_SECTION = Template("""<h2 style="font-size: 16px">$heading</h2>
<table cellpadding="4" style="border-collapse: collapse">
<tr><th align="left">$first_column</th><th align="left">$second_column</th></tr>
$rows
</table>
$more
""")
HTML_PLAN_ROW = Template('<tr><td><a href="$url">$title</a></td><td>$detail</td></tr>')
HTML_ESCALATION_ROW = Template("<tr><td>$name</td><td>$plans</td></tr>")
HTML_MORE = Template("<p>e mais $count.</p>")

TEXT = Template("""Resumo das revisões de planos

Olá, $name. Este é o seu resumo de $date.
$sections
Você tem $unread notificações não lidas no EduAutismo Planos.
Lista de revisões pendentes: $pending_url

Para cancelar o recebimento deste e-mail: $unsubscribe_url
""")
TEXT_SECTION = Template("""
$heading
$rows$more
""")
TEXT_PLAN_ROW = Template("- $title: $detail\n  $url\n")
TEXT_ESCALATION_ROW = Template("- $name: $plans\n")
TEXT_MORE = Template("e mais $count.\n")

OVERDUE_HEADING = "Revisões atrasadas ($count)"
DUE_SOON_HEADING = "Revisões próximas ($count)"
ESCALATION_HEADING = "Atrasadas há $days dias ou mais na organização, por profissional"
PLAN_COLUMN = "Plano"
DETAIL_COLUMN = "Situação"
PROFESSIONAL_COLUMN = "Profissional"
PLANS_COLUMN = "Planos"
OVERDUE_DETAIL = "venceu em $date, atrasada há $days"
DUE_SOON_DETAIL = "vence em $date"

CONFIRM_PAGE = Template("""<!DOCTYPE html>
<html lang="pt-BR">
<head><meta charset="utf-8"><title>Cancelar o resumo por e-mail</title></head>
<body style="font-family: Arial, sans-serif">
<h1 style="font-size: 20px">Cancelar o resumo por e-mail</h1>
<p>Deseja deixar de receber o resumo das revisões de planos por e-mail?</p>
<form method="post" action="$action">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Cancelar o recebimento</button>
</form>
</body>
</html>
""")
DONE_PAGE = """<!DOCTYPE html>
<html lang="pt-BR">
<head><meta charset="utf-8"><title>Recebimento cancelado</title></head>
<body style="font-family: Arial, sans-serif">
<h1 style="font-size: 20px">Recebimento cancelado</h1>
<p>Você não receberá mais o resumo por e-mail. Pode reativá-lo nas preferências do aplicativo.</p>
</body>
</html>
"""


def fill(template: Template, values: Mapping[str, object], safe: Mapping[str, str] | None = None) -> str:
    """``template`` with every value HTML-escaped; ``safe`` holds fragments these templates rendered."""
    escaped = {name: html.escape(str(value), quote=True) for name, value in values.items()}
    return template.substitute({**escaped, **(safe or {})})


def fill_text(template: Template, values: Mapping[str, object]) -> str:
    return template.substitute({name: str(value) for name, value in values.items()})
