"""The base of every request and response model."""

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Validators and serializers are built on a model's first use, not when its module is imported: a
    container serves a few of its function's routes, so most models of a cold start are never used.
    SnapStart's before-snapshot hook builds them all (eduautismo.snapstart)."""

    model_config = ConfigDict(defer_build=True)


def build_models() -> None:
    """Build every model defined so far (SnapStart's before-snapshot hook): each restored copy then
    starts with them built."""
    pending: list[type[BaseModel]] = [ApiModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__:
            model.model_rebuild()
