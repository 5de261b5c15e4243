"""The AWS path with moto for SQS and SES v2: the dispatcher's batches, the worker's partial batch
responses, retries into the DLQ, duplicate deliveries, and SES bounce events suppressing the address."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from eduautismo.digests.handlers import deliver_batch
from eduautismo.digests.schemas import Email
from eduautismo.digests.senders import SesSender
from eduautismo.settings import get_settings
from eduautismo_local.cli import scheduled_event
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.template_routes import function_source, load_handler
from tests.support.factories import Actor, Factory

REGION = "sa-east-1"
SEVEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 07:00 in São Paulo
IDENTITY = "eduautismo.example"


class Aws:
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.ses = boto3.client("sesv2", region_name=REGION)
        dlq_url = self.sqs.create_queue(QueueName="digests-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
        self.dlq_url = dlq_url
        self.queue_url = self.sqs.create_queue(
            QueueName="digests", Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "0"}
        )["QueueUrl"]
        self.ses.create_email_identity(EmailIdentity=IDENTITY)
        self.ses.create_configuration_set(ConfigurationSetName="digests")

    def receive(self, url: str | None = None) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=url or self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        return list(answer.get("Messages", []))

    def sent(self) -> list[Any]:
        return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)

    def recipients(self) -> list[str]:
        """One address per email sent (moto lists the envelope and the To header both)."""
        addresses = []
        for message in self.sent():
            [address] = set(message.destinations)
            addresses.append(address)
        return sorted(addresses)


def lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The SQS event Lambda's event source mapping builds from received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT_ID}:digests",
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


@pytest.fixture
def aws(override_settings: Any) -> Iterator[Aws]:
    with mock_aws():
        resources = Aws()
        override_settings(
            digest_queue_url=resources.queue_url,
            email_configuration_set="digests",
            email_from=f"EduAutismo Planos <lembretes@{IDENTITY}>",
            aws_region=REGION,
        )
        yield resources


def _professionals_with_work(factory: Factory, count: int) -> list[Actor]:
    org = factory.organization()
    people = [factory.user(org) for _ in range(count)]
    for person in people:
        factory.plan(person, start_date=date(2026, 11, 25) - timedelta(days=9))
    return people


def _function(logical_id: str) -> Any:
    return load_handler(*function_source(logical_id))  # type: ignore[misc]


def _dispatch(time: str = "2026-11-25T10:00:00Z") -> dict[str, Any]:
    handler = _function("DigestDispatcherFunction")
    return dict(handler(scheduled_event(time), LocalLambdaContext(function_name="DigestDispatcherFunction")))


def _work(event: dict[str, Any]) -> dict[str, Any]:
    handler = _function("DigestWorkerFunction")
    return dict(handler(event, LocalLambdaContext(function_name="DigestWorkerFunction")))


def test_the_dispatcher_queues_in_batches_and_the_worker_sends_each_digest_once_through_ses(
    factory: Factory, aws: Aws
) -> None:
    # Given twelve professionals due at 07:00 São Paulo
    people = _professionals_with_work(factory, 12)
    # When the hourly schedule fires (twice: a retried event) and the worker takes the queue
    first = _dispatch()
    second = _dispatch()
    messages = aws.receive() + aws.receive()
    answer = _work(lambda_event(messages))
    # Then 12 requests were queued, none twice before delivery... and each user got exactly one email
    assert first["queued"] == 12 and second["queued"] == 12  # not delivered yet: selected again
    assert answer == {"batchItemFailures": []}
    remaining = aws.receive() + aws.receive()
    assert _work(lambda_event(remaining)) == {"batchItemFailures": []}
    assert aws.recipients() == sorted(person.email for person in people)
    message = email.message_from_string(aws.sent()[0].raw_data, policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(message["List-Unsubscribe"]).startswith("<https://") or "token=" in str(
        message["List-Unsubscribe"]
    )
    assert _dispatch("2026-11-25T10:30:00Z")["selected"] == 0  # delivered: not selected again


class FailingFor:
    """SES (moto) that refuses the digests of some addresses, as a throttled or failing call would."""

    def __init__(self, real: SesSender, refused: set[str]) -> None:
        self.real = real
        self.refused = refused

    def send(self, email: Email) -> str:
        if email.to in self.refused:
            raise RuntimeError("SES SendEmail failed")
        return self.real.send(email)


def test_a_failed_send_is_retried_then_reaches_the_dlq_without_blocking_the_batch(
    factory: Factory, aws: Aws
) -> None:
    # Given three professionals due, and SES failing for one of them
    people = _professionals_with_work(factory, 3)
    unlucky = people[0]
    settings = get_settings()
    sender = FailingFor(
        SesSender(aws.ses, settings.email_from, settings.email_configuration_set), {unlucky.email}
    )
    _dispatch()
    # When the worker takes the batch, and then each redelivery of what failed
    answers = []
    for _ in range(4):
        messages = aws.receive()
        if not messages:
            break
        answer = deliver_batch(
            lambda_event(messages), LocalLambdaContext(function_name="DigestWorkerFunction"), sender
        )
        answers.append(answer)
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        for message in messages:  # what Lambda does with a partial batch response
            if message["MessageId"] not in failed:
                aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
    # Then the two others were sent at once; the failed one was retried three times, then moved to the DLQ
    assert len(answers) == 3 and all(len(answer["batchItemFailures"]) == 1 for answer in answers)
    assert aws.recipients() == sorted(person.email for person in people[1:])
    [dead] = aws.receive(aws.dlq_url)
    assert json.loads(dead["Body"])["user_id"] == str(unlucky.user_id)


def test_ses_bounce_events_suppress_the_address(factory: Factory, aws: Aws) -> None:
    # Given a professional due, whose address SES reported as permanently bounced (through SNS)
    [person] = _professionals_with_work(factory, 1)
    bounce = {
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": person.email}]},
    }
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(bounce)}}]}
    result = _function("EmailEventsFunction")(event, LocalLambdaContext(function_name="EmailEventsFunction"))
    # When the hourly dispatch runs
    dispatched = _dispatch()
    # Then nobody is selected
    assert result == {"suppressed": 1} and dispatched["selected"] == 0
