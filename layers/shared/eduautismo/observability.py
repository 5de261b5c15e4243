"""Powertools logger, tracer and metrics shared by every function (service name from the env)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="eduautismo")
tracer = Tracer(service="eduautismo")
metrics = Metrics(namespace="EduAutismo", service="eduautismo")
