"""Create the queue, its dead-letter queue and the table, idempotently.

Used by ``make run``, the tests and the compose/kind init jobs (the ``lantern-shop/provision``
image). On real AWS these resources are created by the workshop's CLI steps instead (see
docs/workshop.md); the shapes match. A tool of the workspace, not part of the shared library:
no service image carries it.

    lantern-provision        (or python -m provision)
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lantern.aws import dynamodb_client, sqs_client
from lantern.settings import AwsSettings, env_int
from lantern.table import TTL_ATTRIBUTE, create_table_request


def provision(
    settings: AwsSettings, *, max_receive_count: int = 5, visibility_seconds: int = 30
) -> str:
    """Ensure queue, DLQ and table exist; return the queue URL."""
    sqs = sqs_client(settings)
    dlq_url = sqs.create_queue(QueueName=settings.dlq_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
    attributes: dict[Any, str] = {
        "RedrivePolicy": redrive,
        "VisibilityTimeout": str(visibility_seconds),
    }
    queue_url = sqs.create_queue(QueueName=settings.queue_name)["QueueUrl"]
    # create_queue refuses changed attributes on an existing queue; set them explicitly instead.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=attributes)
    _ensure_table(settings)
    return queue_url


def _ensure_table(settings: AwsSettings) -> None:
    dynamodb = dynamodb_client(settings)
    try:
        dynamodb.create_table(**create_table_request(settings.table_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(
        TableName=settings.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    try:
        dynamodb.update_time_to_live(
            TableName=settings.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    except ClientError as exc:
        # Already enabled (real AWS) or not implemented (some emulators): TTL is a nicety here.
        if exc.response["Error"]["Code"] not in (
            "ValidationException",
            "UnknownOperationException",
        ):
            raise


def main() -> int:
    settings = AwsSettings.from_env()
    max_receive = env_int(os.environ, "ORDERS_MAX_RECEIVE_COUNT", 5, low=1, high=1000)
    visibility = env_int(os.environ, "ORDERS_VISIBILITY_SECONDS", 30, low=0, high=43200)
    deadline = time.monotonic() + env_int(os.environ, "PROVISION_WAIT_SECONDS", 60, low=0, high=600)
    while True:
        try:
            url = provision(settings, max_receive_count=max_receive, visibility_seconds=visibility)
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                print(f"provision failed: {exc}", file=sys.stderr)
                return 1
            time.sleep(1)
            continue
        print(json.dumps({"event": "provisioned", "queue_url": url, "table": settings.table_name}))
        return 0
