"""``python -m consumer``: serve the read API under gunicorn; each worker process also polls SQS."""

from lantern.serve import serve
from consumer.settings import ConsumerSettings


def main() -> None:
    serve(
        "consumer.app:create_app()",
        service="consumer",
        port=8082,
        workers=1,
        check_settings=ConsumerSettings.from_env,
    )


if __name__ == "__main__":
    main()
