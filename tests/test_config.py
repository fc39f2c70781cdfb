from pathlib import Path

import pytest

from picloud.config import ConfigError, configuration_markdown, load_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_defaults_serve_sqlite_in_the_data_dir_on_localhost() -> None:
    settings = load_settings({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.resolved_database_url.endswith("picloud-data/picloud.db")
    assert settings.max_concurrent_executions == 32


def test_values_are_parsed() -> None:
    settings = load_settings(
        {
            "PICLOUD_BIND": "0.0.0.0:9000",
            "PICLOUD_DATABASE_URL": "postgresql://u@db/picloud",
            "PICLOUD_MAX_TIMEOUT_MS": "1000",
            "PICLOUD_DEFAULT_TIMEOUT_MS": "2000",
        }
    )
    assert settings.bind == ("0.0.0.0", 9000)
    assert settings.resolved_database_url == "postgresql://u@db/picloud"
    assert settings.limit_ceilings.timeout_ms == 1000
    assert settings.default_limits.timeout_ms == 2000


@pytest.mark.parametrize(
    ("variable", "value", "accepts"),
    [
        ("PICLOUD_BIND", "8080", "HOST:PORT"),
        ("PICLOUD_BIND", "localhost:99999", "HOST:PORT"),
        ("PICLOUD_MAX_CONCURRENT_EXECUTIONS", "0", "a whole number >= 1"),
        ("PICLOUD_MAX_CONCURRENT_EXECUTIONS", "lots", "a whole number >= 1"),
        ("PICLOUD_DATABASE_URL", "mysql://x", "sqlite:///PATH or postgresql://..."),
        ("PICLOUD_SANDBOX", "off", "strict or weak"),
        ("PICLOUD_LOG_FORMAT", "xml", "text or json"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(variable, value, accepts) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})
    assert str(caught.value) == f"{variable}={value!r} is not valid: expected {accepts}"


def test_configuration_docs_are_generated_from_the_code() -> None:
    assert DOCS.read_text() == configuration_markdown(), (
        "docs/configuration.md is stale: run `picloud config-docs -o docs/configuration.md`"
    )
