from datetime import UTC, datetime, timedelta

import pytest

from factories import execution_record
from picloud.executor.interface import LogLine
from picloud.store import apps, executions, scripts
from picloud.store.executions import MAX_PAGE_SIZE, ExecutionRecord, InvalidCursor
from picloud.store.new_rows import new_id

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _record(script, *, at: datetime, outcome: str = "ok", **changes) -> ExecutionRecord:
    return execution_record(
        script.app_id,
        script.id,
        script_version=script.version,
        outcome=outcome,
        duration_ms=2.5,
        started_at=at,
        **changes,
    )


@pytest.fixture
def two_scripts(database):
    with database.begin() as conn:
        shop = apps.create(conn, slug="shop", name="Shop")
        cart = scripts.create(conn, app_id=shop.id, name="cart", source="def handle(r): pass")
        default = apps.get_by_slug(conn, "default")
        hello = scripts.create(conn, app_id=default.id, name="hi", source="def handle(r): pass")
    return cart, hello


def _write(database, records):
    with database.begin() as conn:
        executions.insert_many(conn, records)


def _all_pages(database, limit, **filters):
    seen, cursor = [], None
    while True:
        with database.connect() as conn:
            page, cursor = executions.list_page(conn, limit=limit, cursor=cursor, **filters)
        seen.extend(page)
        if cursor is None:
            return seen


def test_a_record_reads_back_as_written_with_logs_and_error(database, two_scripts):
    cart, _ = two_scripts
    record = _record(
        cart,
        at=T0,
        outcome="error",
        status_code=500,
        error="Traceback ...\nKeyError: 'x'",
        logs=[{"level": "info", "message": "hi", "fields": {"n": 1}, "at": T0.isoformat()}],
    )
    _write(database, [record])
    with database.connect() as conn:
        assert executions.get(conn, record.id) == record
        assert executions.get(conn, new_id()) is None


def test_executor_log_lines_are_stored_as_plain_objects(database, two_scripts):
    cart, _ = two_scripts
    line = LogLine(level="warning", message="slow", fields={"ms": 900}, at=T0.isoformat())
    _write(database, [_record(cart, at=T0, logs=[line])])
    with database.connect() as conn:
        (stored,), _ = executions.list_page(conn)
    assert stored.logs == [
        {"level": "warning", "message": "slow", "fields": {"ms": 900}, "at": T0.isoformat()}
    ]


def test_pages_run_newest_first_and_cover_every_record_once(database, two_scripts):
    cart, hello = two_scripts
    # Ties on started_at are the hard case for a keyset: five records share each instant.
    records = [
        _record(script, at=T0 + timedelta(seconds=i // 5))
        for i in range(23)
        for script in (cart, hello)
    ]
    _write(database, records)
    listed = _all_pages(database, limit=4)
    assert sorted(r.id for r in listed) == sorted(r.id for r in records)
    keys = [(r.started_at, r.id) for r in listed]
    assert keys == sorted(keys, reverse=True)


def test_a_page_holds_limit_records_and_the_last_page_has_no_cursor(database, two_scripts):
    cart, _ = two_scripts
    _write(database, [_record(cart, at=T0 + timedelta(seconds=i)) for i in range(5)])
    with database.connect() as conn:
        first, cursor = executions.list_page(conn, limit=3)
        second, end = executions.list_page(conn, limit=3, cursor=cursor)
        exact, no_more = executions.list_page(conn, limit=5)
    assert [len(first), len(second), len(exact)] == [3, 2, 5]
    assert first[0].started_at == T0 + timedelta(seconds=4)
    assert end is None and no_more is None


def test_new_records_do_not_shift_the_next_page(database, two_scripts):
    cart, _ = two_scripts
    _write(database, [_record(cart, at=T0 + timedelta(seconds=i)) for i in range(6)])
    with database.connect() as conn:
        _, cursor = executions.list_page(conn, limit=3)
    _write(database, [_record(cart, at=T0 + timedelta(hours=1)) for _ in range(3)])
    with database.connect() as conn:
        second, _ = executions.list_page(conn, limit=3, cursor=cursor)
    assert [r.started_at for r in second] == [T0 + timedelta(seconds=s) for s in (2, 1, 0)]


def test_listings_filter_by_app_script_outcome_and_time(database, two_scripts):
    cart, hello = two_scripts
    _write(
        database,
        [
            _record(cart, at=T0, outcome="ok"),
            _record(cart, at=T0 + timedelta(minutes=1), outcome="timeout", status_code=504),
            _record(cart, at=T0 + timedelta(minutes=2), outcome="ok"),
            _record(hello, at=T0 + timedelta(minutes=3), outcome="timeout", status_code=504),
        ],
    )

    def minutes(**filters):
        return [
            int((r.started_at - T0).total_seconds() // 60)
            for r in _all_pages(database, limit=2, **filters)
        ]

    assert minutes() == [3, 2, 1, 0]
    assert minutes(app_id=cart.app_id) == [2, 1, 0]
    assert minutes(script_id=hello.id) == [3]
    assert minutes(outcome="timeout") == [3, 1]
    assert minutes(app_id=cart.app_id, outcome="timeout") == [1]
    assert minutes(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)) == [2, 1]


@pytest.mark.parametrize("cursor", ["garbage", "", "WyJub3QgYSBkYXRlIiwiaWQiXQ", "W10"])
def test_a_cursor_we_did_not_hand_out_is_refused(database, cursor):
    with database.connect() as conn, pytest.raises(InvalidCursor, match="invalid cursor"):
        executions.list_page(conn, cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_a_page_size_out_of_range_is_refused(database, limit):
    with database.connect() as conn, pytest.raises(ValueError, match="limit must be between"):
        executions.list_page(conn, limit=limit)


def test_prune_keeps_each_scripts_newest_records_and_drops_old_ones(database, two_scripts):
    cart, hello = two_scripts
    cart_records = [_record(cart, at=T0 + timedelta(minutes=i)) for i in range(10)]
    hello_records = [_record(hello, at=T0 + timedelta(minutes=i)) for i in range(3)]
    _write(database, cart_records + hello_records)
    with database.begin() as conn:
        # Nothing is older than T0 + 1 min except each script's first record.
        deleted = executions.prune(conn, keep_per_script=4, older_than=T0 + timedelta(minutes=1))
    with database.connect() as conn:
        left = {r.id for r in _all_pages(database, limit=50)}
    assert left == {r.id for r in cart_records[6:] + hello_records[1:]}
    assert deleted == 13 - len(left)
    with database.begin() as conn:
        assert executions.prune(conn, keep_per_script=4, older_than=T0) == 0


def test_prune_keeps_exactly_the_cap_when_timestamps_tie(database, two_scripts):
    cart, _ = two_scripts
    _write(database, [_record(cart, at=T0) for _ in range(7)])
    with database.begin() as conn:
        assert executions.prune(conn, keep_per_script=3, older_than=T0) == 4
    assert len(_all_pages(database, limit=50)) == 3


def test_prune_can_limit_the_count_check_to_scripts_that_logged(database, two_scripts):
    cart, hello = two_scripts
    _write(
        database,
        [_record(s, at=T0 + timedelta(seconds=i)) for i in range(5) for s in (cart, hello)],
    )
    with database.begin() as conn:
        assert executions.prune(conn, keep_per_script=2, older_than=T0, script_ids=[cart.id]) == 3
    with database.connect() as conn:
        assert len(executions.list_page(conn, script_id=cart.id)[0]) == 2
        assert len(executions.list_page(conn, script_id=hello.id)[0]) == 5
        with pytest.raises(ValueError, match="keep_per_script must be >= 0"):
            executions.prune(conn, keep_per_script=-1, older_than=T0)


def test_an_empty_batch_writes_nothing(database):
    with database.begin() as conn:
        executions.insert_many(conn, [])
        assert executions.list_page(conn) == ([], None)


def test_a_batch_larger_than_one_insert_reads_back_whole(database, two_scripts):
    cart, _ = two_scripts
    batch = [
        _record(
            cart, at=T0 + timedelta(milliseconds=n), logs=[{"level": "info", "message": str(n)}]
        )
        for n in range(2 * executions.INSERT_ROWS + 7)
    ]
    _write(database, batch)
    assert sorted(_all_pages(database, MAX_PAGE_SIZE), key=lambda r: r.started_at) == batch
