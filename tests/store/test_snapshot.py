from picloud.store import apps, domains, routes, scripts
from picloud.store.seed import seed_hello_world_if_fresh
from picloud.store.snapshot import load_routing_snapshot


def test_the_snapshot_holds_everything_dispatch_needs(database):
    with database.begin() as conn:
        seed_hello_world_if_fresh(conn)
        shop = apps.create(conn, slug="shop", name="Shop")
        claim = domains.create(
            conn,
            app_id=shop.id,
            pattern="{tenant}.shop.com",
            shape="param",
            shape_key="wildcard:shop.com",
        )
        cart = scripts.create(
            conn,
            app_id=shop.id,
            name="cart",
            source="def handle(r): 1",
            handler="handle",
            limits={"timeout_ms": 100},
        )
        route = routes.create(
            conn,
            app_id=shop.id,
            script_id=cart.id,
            method=None,
            host="",
            host_kind="any",
            path="/cart/*",
            path_kind="prefix",
        )
    with database.snapshot() as conn:
        snapshot = load_routing_snapshot(conn)
    assert {(a.id, a.slug) for a in snapshot.apps} >= {(shop.id, "shop")}
    assert {a.slug for a in snapshot.apps} == {"default", "shop"}
    assert claim in snapshot.domains
    assert {d.pattern for d in snapshot.domains} == {"localhost", "127.0.0.1", "{tenant}.shop.com"}
    assert cart in snapshot.scripts
    assert {s.name for s in snapshot.scripts} == {"hello", "cart"}
    assert route in snapshot.routes
    assert {r.path for r in snapshot.routes} == {"/hello", "/cart/*"}
