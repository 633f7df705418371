"""``python -m producer``: serve the order API under gunicorn."""

from lantern.serve import serve
from producer.settings import ProducerSettings


def main() -> None:
    serve(service="producer", port=8081, workers=2, check_settings=ProducerSettings.from_env)


if __name__ == "__main__":
    main()
