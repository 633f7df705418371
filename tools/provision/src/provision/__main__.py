"""``python -m provision`` (or ``lantern-provision``): provision once, exit 0 or 1."""

import sys

from provision import main

if __name__ == "__main__":
    sys.exit(main())
