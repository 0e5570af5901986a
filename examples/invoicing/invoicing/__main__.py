"""``python -m invoicing``: serve the example on INVOICING_PORT (default 8500)."""

from __future__ import annotations

import logging
import os

import uvicorn

from invoicing.app import create_app
from invoicing.config import Config


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per API call is too chatty
    config = Config.from_env()
    port = int(os.environ.get("INVOICING_PORT", "8500"))
    print(f"example invoicing app on http://127.0.0.1:{port} (mailport at {config.mailport_url})", flush=True)
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
