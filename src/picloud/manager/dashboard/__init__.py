"""The web dashboard at `/admin`: server-rendered pages over the manager's services.

`create_dashboard(ctx)` returns the Starlette application the composition root hands every
request for `/admin` and `/admin/...` (static files included). Pages work without JavaScript;
small scripts in `static/` enhance them (the CodeMirror editor, live route checks, live logs).
"""

from picloud.manager.dashboard.application import create_dashboard

__all__ = ["create_dashboard"]
