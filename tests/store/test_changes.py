from picloud.store.changes import ChangeFeed


def test_every_subscriber_hears_each_publish_until_it_unsubscribes():
    feed = ChangeFeed()
    heard: list[str] = []
    unsubscribe_a = feed.subscribe(lambda: heard.append("a"))
    feed.subscribe(lambda: heard.append("b"))
    feed.publish()
    unsubscribe_a()
    feed.publish()
    assert heard == ["a", "b", "b"]


def test_a_failing_subscriber_does_not_silence_the_others(caplog):
    feed = ChangeFeed()
    heard: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    feed.subscribe(broken)
    feed.subscribe(lambda: heard.append("ok"))
    feed.publish()
    assert heard == ["ok"]
    assert "change subscriber" in caplog.text


def test_each_database_has_its_own_feed(database):
    heard: list[int] = []
    database.changes.subscribe(lambda: heard.append(1))
    database.changes.publish()
    assert heard == [1]
