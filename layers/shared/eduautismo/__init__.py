"""EduAutismo Planos: shared code of every Lambda function (the layer package)."""

__version__ = "0.1.0"
