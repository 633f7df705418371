"""``python -m consumer``: serve the read API under gunicorn; each worker process also polls SQS."""

from consumer.settings import ConsumerSettings
from lantern.serve import serve


def main() -> None:
    serve(service="consumer", port=8082, workers=1, check_settings=ConsumerSettings.from_env)


if __name__ == "__main__":
    main()
