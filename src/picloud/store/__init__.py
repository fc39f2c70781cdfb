"""Storage: the schema, its migrations, and one repository module per table family.

`Database` (in `database.py`) owns the engine. Repository functions take a `Connection` first,
so a caller composes several of them in one transaction::

    with db.begin() as conn:
        app = apps.create(conn, slug="shop", name="Shop")
        domains.create(conn, app_id=app.id, pattern="shop.example.com", shape="exact",
                       shape_key="exact:shop.example.com")
    db.changes.publish()

See docs/storage.md.
"""
