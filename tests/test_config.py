"""Tests for monitor.config: finding, reading and validating config.toml."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import find_config, load_config
from monitor.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO_ROOT / "config.toml"

GOOD_SOURCE = 'name = "a"\nkind = "feed"\nurl = "https://status.example.com"\n'
DURATION_HINT = "a duration such as '30s', '5m', '1h' or '7d'"


@pytest.fixture(autouse=True)
def no_config_from_environment(monkeypatch):
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)


def source_block(extra: str = "", base: str = GOOD_SOURCE) -> str:
    return "[[source]]\n" + base + extra


def problems_in(path: Path, *problems: str) -> str:
    noun = "problem" if len(problems) == 1 else "problems"
    return "\n".join([f"{path}: {len(problems)} {noun} in config", *[f"  {p}" for p in problems]])


# --- the shipped config -------------------------------------------------------------------


def test_it_loads_the_shipped_config_with_its_three_sources():
    config = load_config(SHIPPED_CONFIG)
    assert [(s.name, s.kind) for s in config.sources] == [
        ("claude", "statuspage"),
        ("github", "statuspage"),
        ("cloudflare", "feed"),
    ]
    claude = config.source("claude")
    assert claude.url == "https://status.claude.com"
    assert claude.interval == timedelta(minutes=2)
    assert all(s.enabled for s in config.sources)


def test_it_puts_the_shipped_configs_database_beside_the_config_file():
    config = load_config(SHIPPED_CONFIG)
    assert config.database_url == f"sqlite:///{REPO_ROOT / 'monitor.db'}"
    assert config.path == SHIPPED_CONFIG


def test_it_reads_the_shipped_http_limits():
    http = load_config(SHIPPED_CONFIG).http
    assert http.timeout == timedelta(seconds=10)
    assert http.connect_timeout == timedelta(seconds=5)
    assert http.max_bytes == 5_000_000
    assert http.max_redirects == 5
    assert http.ca_file is None
    assert http.listen == "127.0.0.1:9470"  # the local API, on this machine only
    assert http.token is None


def test_it_lists_the_configured_names_when_a_source_is_not_found():
    config = load_config(SHIPPED_CONFIG)
    with pytest.raises(KeyError) as caught:
        config.source("docker")
    assert caught.value.args[0] == (
        f"no source named 'docker' in {SHIPPED_CONFIG} (configured: claude, github, cloudflare)"
    )


# --- where the config comes from ---------------------------------------------------------


@pytest.fixture
def three_configs(tmp_path, monkeypatch):
    """A config.toml in the working directory, one named by the env var, one given explicitly."""
    paths = {}
    for probe in ("cwd", "env", "explicit"):
        folder = tmp_path / probe
        folder.mkdir()
        paths[probe] = folder / "config.toml"
        paths[probe].write_text(f'[monitor]\nprobe = "{probe}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path / "cwd")
    return paths


def test_it_prefers_an_explicit_path_over_the_environment_and_the_working_directory(
    three_configs, monkeypatch
):
    monkeypatch.setenv("MONITOR_CONFIG", str(three_configs["env"]))
    assert find_config(three_configs["explicit"]) == three_configs["explicit"]
    assert load_config(three_configs["explicit"]).probe == "explicit"


def test_it_prefers_monitor_config_over_the_working_directory(three_configs, monkeypatch):
    monkeypatch.setenv("MONITOR_CONFIG", str(three_configs["env"]))
    assert find_config() == three_configs["env"]
    assert load_config().probe == "env"


def test_it_falls_back_to_config_toml_in_the_working_directory(three_configs):
    assert find_config() == Path("config.toml")
    config = load_config()
    assert config.probe == "cwd"
    assert config.path == (three_configs["cwd"]).resolve()


def test_it_ignores_an_empty_monitor_config(three_configs, monkeypatch):
    monkeypatch.setenv("MONITOR_CONFIG", "")
    assert load_config().probe == "cwd"


def test_it_says_how_to_point_at_a_config_when_none_is_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value) == (
        "config.toml: config file not found (create one, pass --config PATH or set MONITOR_CONFIG)"
    )


def test_it_says_to_check_the_path_when_an_explicit_config_is_missing(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert (
        str(caught.value)
        == f"{missing}: config file not found (check the path given to --config (or in MONITOR_CONFIG))"
    )


# --- mistakes, each reported with its file, key and what is expected -----------------------


MISTAKES = [
    pytest.param(
        'colour = "red"\n',
        "colour: unknown key (expected one of: monitor, database, http, retention, correlate, dashboards, source, check)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        source_block('color = "red"\n'),
        'source[0] ("a").color: unknown key '
        "(expected one of: name, kind, url, interval, components, enabled)",
        id="unknown-source-key",
    ),
    pytest.param(
        '[http]\ntimout = "5s"\n',
        "http.timout: unknown key "
        "(expected one of: timeout, connect_timeout, max_bytes, max_redirects, ca_file, "
        "listen, token)",
        id="unknown-http-key",
    ),
    pytest.param(
        source_block("interval = 300\n"),
        f'source[0] ("a").interval: expected {DURATION_HINT}, got 300',
        id="interval-as-integer",
    ),
    pytest.param(
        source_block('enabled = "yes"\n'),
        "source[0] (\"a\").enabled: expected true or false, got string 'yes'",
        id="enabled-as-string",
    ),
    pytest.param(
        source_block('components = "API"\n'),
        "source[0] (\"a\").components: expected an array, got string 'API'",
        id="components-as-string",
    ),
    pytest.param(
        source_block('interval = "5x"\n'),
        f"source[0] (\"a\").interval: expected {DURATION_HINT}, got '5x'",
        id="bad-duration",
    ),
    pytest.param(
        source_block('interval = "0s"\n'),
        "source[0] (\"a\").interval: expected a positive duration, got '0s'",
        id="zero-duration",
    ),
    pytest.param(
        '[http]\nmax_bytes = "lots"\n',
        "http.max_bytes: expected a size such as '512KB' or '5MB', got 'lots'",
        id="bad-size",
    ),
    pytest.param(
        source_block(base='name = "a"\nkind = "rss"\nurl = "https://status.example.com"\n'),
        "source[0] (\"a\").kind: expected one of 'statuspage', 'feed' or 'statusio', got 'rss'",
        id="bad-kind",
    ),
    pytest.param(
        source_block(base='name = "a"\nkind = "feed"\nurl = "ftp://x"\n'),
        "source[0] (\"a\").url: expected an http:// or https:// URL, got 'ftp://x'",
        id="ftp-url",
    ),
    pytest.param(
        source_block(base='name = "a"\nkind = "feed"\nurl = "not a url"\n'),
        "source[0] (\"a\").url: expected an http:// or https:// URL, got 'not a url'",
        id="not-a-url",
    ),
    pytest.param(
        source_block(base='name = "my source"\nkind = "feed"\nurl = "https://x.example"\n'),
        "source[0] (\"my source\").name: expected a short name of letters, digits, '.', '_' or '-', "
        "got 'my source'",
        id="name-with-a-space",
    ),
    pytest.param(
        source_block()
        + source_block(base='name = "b"\nkind = "feed"\nurl = "https://b.example"\n')
        + source_block(),
        "source[2].name: duplicate source name 'a'; each [[source]] needs its own name",
        id="duplicate-name",
    ),
    pytest.param(
        source_block(base='name = "a"\nkind = "feed"\n'),
        'source[0] ("a").url: required key is missing',
        id="missing-url",
    ),
    pytest.param(
        "[http]\nmax_redirects = 21\n",
        "http.max_redirects: expected at most 20, got 21",
        id="too-many-redirects",
    ),
    pytest.param(
        "[http]\nmax_redirects = -1\n",
        "http.max_redirects: expected at least 0, got -1",
        id="negative-redirects",
    ),
    pytest.param(
        "http = 5\n",
        "http: expected a table, got integer 5",
        id="section-not-a-table",
    ),
    pytest.param(
        '[database]\nurl = "monitor.db"\n',
        "database.url: expected a SQLAlchemy URL such as 'sqlite:///monitor.db' "
        "or 'postgresql+psycopg://host/db', got 'monitor.db'",
        id="database-url-without-scheme",
    ),
    pytest.param(
        '[http]\nca_file = "corp-ca.pem"\n',
        "http.ca_file: no such file 'corp-ca.pem' (looked for CONFIG_DIR/corp-ca.pem; "
        "relative paths are read from the config file's folder)",
        id="missing-ca-file",
    ),
    pytest.param(
        '[[check]]\nurl = "https://api.example.com"\n',
        "check[0].kind: expected one of 'http', 'oauth_token_endpoint', 'oauth_refresh', "
        "'credentials_file', 'dns', 'tcp', 'local_port' or 'clock'",
        id="check-without-name",
    ),
]


@pytest.mark.parametrize(("text", "problem"), MISTAKES)
def test_it_reports_a_mistake_with_the_file_the_key_and_what_is_expected(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == problems_in(path, problem.replace("CONFIG_DIR", str(tmp_path)))


def test_it_reports_a_mistake_in_a_config_written_by_the_fixture(write_config):
    path = write_config(
        sources=[{"name": "claude", "kind": "rss", "url": "https://status.claude.com"}]
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == problems_in(
        path,
        "source[0] (\"claude\").kind: expected one of 'statuspage', 'feed' or 'statusio', got 'rss'",
    )


def test_it_names_the_line_of_invalid_toml(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[http]\ntimeout = "10s"\nmax_bytes = \n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 3" in message


def test_it_reports_several_mistakes_together(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        'colour = "red"\n'
        "[http]\nmax_redirects = 99\n"
        + source_block(base='name = "a"\nkind = "rss"\nurl = "ftp://x"\ninterval = "5x"\n'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.splitlines()[0] == f"{path}: 5 problems in config"
    assert sorted(message.splitlines()[1:]) == sorted(
        [
            "  colour: unknown key (expected one of: monitor, database, http, retention, correlate, dashboards, source, check)",
            "  http.max_redirects: expected at most 20, got 99",
            "  source[0] (\"a\").kind: expected one of 'statuspage', 'feed' or 'statusio', got 'rss'",
            "  source[0] (\"a\").url: expected an http:// or https:// URL, got 'ftp://x'",
            f"  source[0] (\"a\").interval: expected {DURATION_HINT}, got '5x'",
        ]
    )


def test_it_reports_several_cross_checked_mistakes_together(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[database]\nurl = "monitor.db"\n[http]\nca_file = "corp-ca.pem"\n'
        + source_block()
        + source_block(),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == problems_in(
        path,
        "source[1].name: duplicate source name 'a'; each [[source]] needs its own name",
        f"http.ca_file: no such file 'corp-ca.pem' (looked for {tmp_path}/corp-ca.pem; "
        "relative paths are read from the config file's folder)",
        "database.url: expected a SQLAlchemy URL such as 'sqlite:///monitor.db' "
        "or 'postgresql+psycopg://host/db', got 'monitor.db'",
    )


def test_it_reports_a_schema_mistake_and_a_cross_checked_mistake_together(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[database]\nurl = "monitor.db"\n' + source_block('interval = "5x"\n') + source_block(),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.splitlines()[0] == f"{path}: 3 problems in config"
    assert 'source[0] ("a").interval' in message
    assert "source[1].name" in message
    assert "database.url" in message


def test_it_reports_a_duration_too_large_to_represent_as_a_config_mistake(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(source_block('interval = "9999999999d"\n'), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"source\[0\] \(\"a\"\)\.interval: duration .* is too long"
    ):
        load_config(path)


def test_it_accepts_a_ca_file_relative_to_the_config_folder(tmp_path, monkeypatch):
    (tmp_path / "corp-ca.pem").write_text("not checked here\n", encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text('[http]\nca_file = "corp-ca.pem"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)
    assert load_config(path).http.ca_file == "corp-ca.pem"


def test_it_accepts_a_ca_file_in_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "corp-ca.pem").write_text("not checked here\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    path = tmp_path / "config.toml"
    path.write_text('[http]\nca_file = "~/corp-ca.pem"\n', encoding="utf-8")
    assert load_config(path).http.ca_file is not None


# --- through the CLI: exit 2, message on stderr, nothing started --------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param(source_block('interval = "5x"\n'), 'source[0] ("a").interval', id="schema"),
        pytest.param(source_block() + source_block(), "source[1].name", id="cross-check"),
        pytest.param("[http\n", "not valid TOML", id="toml"),
    ],
)
def test_it_exits_2_on_a_broken_config_without_starting_anything(tmp_path, capsys, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "sources"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {path}: ")
    assert key in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_it_exits_2_when_the_cli_is_given_a_missing_config(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(missing), "sources"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err
        == f"error: {missing}: config file not found (check the path given to --config (or in MONITOR_CONFIG))\n"
    )
    assert list(tmp_path.iterdir()) == []


# --- where the database lives ------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("sqlite:///monitor.db", "sqlite:///{base}/monitor.db", id="relative"),
        pytest.param("sqlite:///data/m.db", "sqlite:///{base}/data/m.db", id="relative-subdir"),
        pytest.param("sqlite:///./m.db", "sqlite:///{base}/m.db", id="dot-relative"),
        pytest.param("sqlite:////var/lib/monitor.db", "sqlite:////var/lib/monitor.db", id="abs"),
        pytest.param("sqlite:///:memory:", "sqlite:///:memory:", id="memory"),
        pytest.param(
            "postgresql+psycopg://user@db.internal/monitor",
            "postgresql+psycopg://user@db.internal/monitor",
            id="postgresql",
        ),
    ],
)
def test_it_resolves_a_relative_sqlite_path_against_the_config_folder_not_the_cwd(
    tmp_path, monkeypatch, written, expected
):
    folder = tmp_path / "etc"
    (folder / "data").mkdir(parents=True)  # the folder a relative path names must exist
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "{written}"\n', encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    config = load_config(path)
    assert config.database_url == expected.format(base=folder.resolve())


def test_it_defaults_the_database_to_monitor_db_beside_a_config_found_in_the_cwd(
    tmp_path, monkeypatch
):
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_config().database_url == f"sqlite:///{tmp_path.resolve() / 'monitor.db'}"


def test_it_takes_the_database_password_from_the_environment_quoted_whole(tmp_path, monkeypatch):
    from sqlalchemy.engine import make_url

    monkeypatch.setenv("MONITOR_DB_PASSWORD", "p@ss/w:rd%")
    path = tmp_path / "config.toml"
    path.write_text(
        '[database]\nurl = "postgresql+psycopg://monitor:${MONITOR_DB_PASSWORD}@db:5432/monitor"\n',
        encoding="utf-8",
    )

    url = make_url(load_config(path).database_url)

    assert (url.username, url.password, url.host, url.port, url.database) == (
        "monitor",
        "p@ss/w:rd%",
        "db",
        5432,
        "monitor",
    )
    assert "p@ss" not in path.read_text()


def test_it_names_an_unset_database_password_variable_without_a_value(tmp_path, monkeypatch):
    monkeypatch.delenv("MONITOR_DB_PASSWORD", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(
        '[database]\nurl = "postgresql+psycopg://monitor:${MONITOR_DB_PASSWORD}@db/monitor"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert str(raised.value) == problems_in(
        path,
        "database.url: ${MONITOR_DB_PASSWORD} is not set in the environment",
    )


def test_a_whole_database_url_from_the_environment_goes_in_as_it_is(tmp_path, monkeypatch):
    from sqlalchemy.engine import make_url

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://monitor:s3cretPW@db.example/monitor")
    monkeypatch.setenv("MONITOR_DATA", str(tmp_path))
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "${DATABASE_URL}"\n', encoding="utf-8")
    url = make_url(load_config(path).database_url)
    assert (url.password, url.host, url.database) == ("s3cretPW", "db.example", "monitor")
    # A path from the environment is a path, not one quoted folder name.
    path.write_text('[database]\nurl = "sqlite:///${MONITOR_DATA}/m.db"\n', encoding="utf-8")
    assert load_config(path).database_url == f"sqlite:///{tmp_path}/m.db"


def test_a_broken_database_url_from_the_environment_is_told_as_written(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg//monitor:s3cretPW@db.example/monitor")
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "${DATABASE_URL}"\n', encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert "s3cretPW" not in str(raised.value)
    assert "got '${DATABASE_URL}'" in str(raised.value)


# --- who this probe is --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hostname", "probe"),
    [
        ("my host.example.com", "my-host"),
        ("laptop", "laptop"),
        ("build_01.ci.internal", "build_01"),
        ("-weird-", "weird"),
        ("", "probe"),
        ("é", "probe"),
        ("x" * 80, "x" * 64),
    ],
)
def test_it_defaults_the_probe_to_a_cleaned_hostname(tmp_path, monkeypatch, hostname, probe):
    monkeypatch.setattr(socket, "gethostname", lambda: hostname)
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    assert load_config(path).probe == probe


def test_it_keeps_a_probe_name_given_in_the_config(write_config):
    assert load_config(write_config()).probe == "test-probe"


def test_it_reads_the_dashboard_formats_as_written(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[dashboards]\nevery = "15m"\nformats = ["svg"]\n', encoding="utf-8")

    config = load_config(path)

    assert config.dashboards.formats == ["svg"]
    assert config.dashboards_dir == tmp_path / "dashboards"
