"""PiCloud as an ASGI target for other servers (`granian`, `uvicorn --workers N`).

`picloud serve` is the product's way in; the server-choice comparison needs the same app under
an import string, configured from the environment exactly as `picloud serve` configures it.
"""

from __future__ import annotations

from picloud.config import load_settings
from picloud.logs import configure_logging
from picloud.server import create_app

settings = load_settings()
configure_logging(settings.log_format, settings.log_level)
app = create_app(settings)
