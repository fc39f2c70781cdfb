"""What a fresh installation starts with.

Migration `0004_default_app` creates the app `default` (name "Default") claiming `localhost`
and `127.0.0.1`. On start the server calls `seed_hello_world_if_fresh`, which gives that app a
Hello World script on `GET /hello` once, and never again after the app has had scripts.
"""

from __future__ import annotations

from sqlalchemy import Connection

from picloud.store import apps, instance, routes, scripts
from picloud.store.new_rows import utc_now

DEFAULT_APP_SLUG = "default"
HELLO_WORLD_FLAG = "hello_world_seeded"
HELLO_WORLD_NAME = "hello"
HELLO_WORLD_PATH = "/hello"
HELLO_WORLD_SOURCE = """\
def handle(req, ctx):
    name = req.query.get("name")
    if name is None and req.body:
        name = (req.json() or {}).get("name")
    name = name or "world"
    ctx.log.info("greeting", name=name)
    return {"message": f"Hello, {name}!"}
"""


def seed_hello_world_if_fresh(conn: Connection) -> bool:
    """Create the Hello World script and its route if this installation never had scripts.

    Returns True if it created them. Idempotent and safe for two nodes starting at once: the
    flag in instance_state is claimed first, so the loser of a race finds it taken.
    """
    app = apps.get_by_slug(conn, DEFAULT_APP_SLUG)
    if app is None:
        return False
    if scripts.count_for_app(conn, app.id) > 0:
        # The user has scripts of their own: never offer Hello World again, even if they go.
        instance.set_if_absent(conn, HELLO_WORLD_FLAG, "skipped")
        return False
    if not instance.set_if_absent(conn, HELLO_WORLD_FLAG, utc_now().isoformat()):
        return False
    script = scripts.create(
        conn,
        app_id=app.id,
        name=HELLO_WORLD_NAME,
        source=HELLO_WORLD_SOURCE,
        description="Says hello. Try /hello?name=you",
    )
    routes.create(
        conn,
        app_id=app.id,
        script_id=script.id,
        method="GET",
        host="",
        host_kind="any",
        path=HELLO_WORLD_PATH,
        path_kind="exact",
    )
    return True
