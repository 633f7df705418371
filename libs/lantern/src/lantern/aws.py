"""AWS client construction: one place that decides timeouts and retries for every service.

Region and endpoint come from the standard variables, so the same code talks to the embedded
moto server, the compose emulators and real AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from lantern.settings import AwsSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

# Short timeouts and few retries: a request thread must fail fast (503) when AWS is away,
# rather than hold a connection for the SDK's default minute.
_REQUEST_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=32,
)
# Long polling holds a request open for up to 20 s by design.
_LONG_POLL_CONFIG = _REQUEST_CONFIG.merge(Config(read_timeout=25))


def _client(service: str, settings: AwsSettings, config: Config = _REQUEST_CONFIG) -> Any:
    session = boto3.session.Session(region_name=settings.region)
    return session.client(service, endpoint_url=settings.endpoint_url, config=config)  # type: ignore[call-overload]


def sqs_client(settings: AwsSettings, *, long_poll: bool = False) -> SQSClient:
    client: SQSClient = _client(
        "sqs", settings, _LONG_POLL_CONFIG if long_poll else _REQUEST_CONFIG
    )
    return client


def dynamodb_client(settings: AwsSettings) -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb", settings)
    return client


def queue_url(client: SQSClient, settings: AwsSettings, name: str | None = None) -> str:
    """The URL of the orders queue (or of ``name``), from settings when given, else looked up."""
    if name is None and settings.queue_url:
        return settings.queue_url
    return client.get_queue_url(QueueName=name or settings.queue_name)["QueueUrl"]


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    """The error botocore raises when AWS answers ``code`` (for the services' in-memory fakes)."""
    metadata = {"HTTPStatusCode": status}
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": metadata},  # type: ignore[typeddict-item]
        operation,
    )


def proves_not_sent(exc: BaseException) -> bool:
    """Whether a failed call certainly changed nothing: no connection was made (refused, DNS,
    connect timeout), the SDK never sent it, or AWS refused it (a 4xx answer). A read timeout,
    a dropped connection or a 5xx may each come after AWS acted on the request."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return isinstance(status, int) and status < 500
    return isinstance(exc, BotoConnectionError | NoCredentialsError | ParamValidationError)


def endpoint_down(url: str = "http://127.0.0.1:1") -> EndpointConnectionError:
    """The error botocore raises when nothing answers at the endpoint."""
    return EndpointConnectionError(endpoint_url=url)
