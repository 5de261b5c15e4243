"""The lookup every repository writes the same way: one row by id within the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

ModelT = TypeVar("ModelT")


def one_in_scope(
    session: Session, model: type[ModelT], conditions: Iterable[ColumnElement[bool]], *, for_update: bool
) -> ModelT | None:
    """The row matching every condition (the id and the scope), locked FOR UPDATE when asked; None when
    the scope holds nothing there, so another organization's id looks like a missing one."""
    statement = select(model).where(*conditions)
    return session.scalar(statement.with_for_update() if for_update else statement)
