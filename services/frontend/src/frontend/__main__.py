"""``python -m frontend``: serve the storefront under gunicorn."""

import os
import secrets
import sys

from frontend.settings import FrontendSettings, dev_mode
from lantern.serve import serve
from lantern.settings import SettingsError


def _share_dev_secret() -> None:
    """With LANTERN_DEV and no SECRET_KEY, pick one key now so every forked worker signs alike."""
    if not os.environ.get("SECRET_KEY", "").strip() and dev_mode(os.environ):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
        print(
            "frontend: SECRET_KEY is not set; LANTERN_DEV=1 so using a throwaway key "
            "(carts reset on restart). Set SECRET_KEY for anything shared.",
            file=sys.stderr,
        )


def main() -> None:
    _share_dev_secret()
    try:
        FrontendSettings.from_env()  # fail here, clearly, rather than in every worker
    except SettingsError as exc:
        print(f"frontend: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(service="frontend", port=8080, workers=2)


if __name__ == "__main__":
    main()
