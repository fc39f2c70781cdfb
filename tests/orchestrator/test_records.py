from __future__ import annotations

import asyncio
import time as time_module

import pytest
import sqlalchemy as sa

from factories import execution_record
from picloud.orchestrator.records import PRUNE_LOCK_KEY, RecordWriter
from picloud.store import apps, executions, scripts
from picloud.store.database import Database
from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id

pytestmark = pytest.mark.anyio


@pytest.fixture
def script(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="rec", name="Records")
        return scripts.create(conn, app_id=app.id, name="s", source="def handle(req): ...")


def record_for(script, **changes) -> ExecutionRecord:
    return execution_record(script.app_id, changes.pop("script_id", script.id), **changes)


def stored_count(database) -> int:
    with database.connect() as conn:
        items, _ = executions.list_page(conn, limit=500)
    return len(items)


def writer_for(database, **options) -> RecordWriter:
    settings = dict(flush_ms=10, retention_count=1000, retention_days=7) | options
    return RecordWriter(database, **settings)


async def test_submitted_records_are_written_in_batches(database, script) -> None:
    writer = writer_for(database, batch_size=7)
    await writer.start()
    for _ in range(20):
        writer.submit(record_for(script))
    for _ in range(200):
        if writer.written == 20:
            break
        await asyncio.sleep(0.01)
    assert writer.written == 20 and writer.pending == 0
    assert stored_count(database) == 20
    await writer.aclose()


async def test_records_arriving_during_a_write_wait_for_the_next_interval(
    database, script, monkeypatch
) -> None:
    batches: list[int] = []
    insert_many = executions.insert_many

    def slow_insert_many(conn, records) -> None:
        batches.append(len(records))
        insert_many(conn, records)
        time_module.sleep(0.02)  # a write takes a while; the server keeps answering meanwhile

    monkeypatch.setattr(executions, "insert_many", slow_insert_many)
    writer = writer_for(database, flush_ms=200)
    await writer.start()
    for _ in range(100):  # 1 s of steady traffic
        writer.submit(record_for(script))
        await asyncio.sleep(0.01)
    await writer.aclose()
    assert writer.written == sum(batches) == 100 and stored_count(database) == 100
    # One batch per interval, not a write whenever the previous one finished.
    assert len(batches) <= 8


async def test_closing_writes_what_is_buffered_without_waiting_for_the_interval(
    database, script
) -> None:
    writer = writer_for(database, flush_ms=600_000)
    await writer.start()
    for _ in range(3):
        writer.submit(record_for(script))
    await asyncio.wait_for(writer.aclose(), timeout=10)
    assert stored_count(database) == 3


async def test_a_record_whose_script_is_gone_does_not_block_the_others(database, script) -> None:
    writer = writer_for(database)
    await writer.start()
    writer.submit(record_for(script))
    writer.submit(record_for(script, script_id=new_id()))  # deleted while it waited
    writer.submit(record_for(script))
    await asyncio.wait_for(writer.aclose(), timeout=10)
    assert stored_count(database) == 2
    assert writer.dropped == 1


async def test_an_unreachable_database_keeps_records_buffered(tmp_path, script) -> None:
    unreachable = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    writer = writer_for(unreachable)
    await writer.start()
    writer.submit(record_for(script))
    await asyncio.sleep(0.3)
    assert writer.pending == 1 and writer.written == 0
    await asyncio.wait_for(writer.aclose(), timeout=10)  # gives up, logging the loss


def test_retention_keeps_the_newest_records_per_script(database, script) -> None:
    with database.begin() as conn:
        executions.insert_many(conn, [record_for(script) for _ in range(5)])
    assert writer_for(database, retention_count=2).prune() == 3
    assert stored_count(database) == 2


@pytest.mark.postgres
def test_prune_skips_while_another_node_holds_the_lock(postgres_url) -> None:
    database = Database(postgres_url)
    database.migrate()
    with database.begin() as conn:
        app = apps.create(conn, slug="rec", name="Records")
        script = scripts.create(conn, app_id=app.id, name="s", source="def handle(req): ...")
        executions.insert_many(conn, [record_for(script) for _ in range(5)])
    writer = writer_for(database, retention_count=2)
    with database.engine.connect() as other_node, other_node.begin():
        other_node.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PRUNE_LOCK_KEY})
        assert writer.prune() == 0
    assert writer.prune() == 3
    database.dispose()
