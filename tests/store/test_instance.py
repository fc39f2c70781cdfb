from picloud.store import instance


def test_facts_are_set_read_and_replaced(database):
    with database.begin() as conn:
        assert instance.get(conn, "setup_token") is None
        instance.set(conn, "setup_token", "abc")
        instance.set(conn, "setup_token", "def")
    with database.connect() as conn:
        assert instance.get(conn, "setup_token") == "def"


def test_set_if_absent_only_sets_once(database):
    with database.begin() as conn:
        assert instance.set_if_absent(conn, "first_start", "1") is True
        assert instance.set_if_absent(conn, "first_start", "2") is False
        assert instance.get(conn, "first_start") == "1"
