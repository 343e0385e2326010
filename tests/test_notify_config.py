"""``[[notify]]`` in the config: defaults, mistakes named with the file and the key, URLs masked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.notify.channels import check_channels, masked, scrub
from tests.test_config import SHIPPED_CONFIG, problems_in


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_channel_hears_everything_after_two_minutes_by_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[[notify]]\nname = "team"\nurl = "ntfy://ntfy.sh/x"\n'))

    [channel] = config.notify
    assert channel.on == ["upstream", "local", "network", "inconclusive", "healthy", "no_data"]
    assert (channel.min_confidence, channel.hold) == ("low", timedelta(minutes=2))


def test_the_shipped_config_documents_notify_without_enabling_it() -> None:
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")

    assert "# [[notify]]" in text
    assert load_config(SHIPPED_CONFIG).notify == ()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            'name = "team"\nurl = "ntfy://x"\non = ["upsteam"]\n',
            "notify[0] (\"team\").on[0]: expected one of 'upstream', 'local', 'network', "
            "'inconclusive', 'healthy' or 'no_data', got 'upsteam'",
        ),
        (
            'name = "team"\nurl = "ntfy://x"\nmin_confidence = "certain"\n',
            "notify[0] (\"team\").min_confidence: expected one of 'low', 'medium' or 'high', "
            "got 'certain'",
        ),
        (
            'name = "team"\nurl = "hooks.example.com/T0K3N-SECRET"\n',
            "notify[0] (\"team\").url: expected an Apprise URL such as 'ntfy://ntfy.sh/my-topic', "
            "'json://host:port/path' or 'mailto://user:${SMTP_PASSWORD}@example.com', "
            "got 'hooks.exampl…'",
        ),
        (
            'name = "team"\nurl = "ntfy://x"\nhold = "soon"\n',
            "notify[0] (\"team\").hold: expected a duration such as '30s', '5m', '1h' or '7d', "
            "got 'soon'",
        ),
        ('url = "ntfy://x"\n', "notify[0].name: required key is missing"),
        (
            'name = "team"\nurl = ["json://hooks.example.com/T0K3N-SECRET"]\n',
            'notify[0] ("team").url: expected an Apprise URL as a string '
            '("ntfy://ntfy.sh/my-topic"), got an array',
        ),
        ('name = "team"\n', 'notify[0] ("team").url: required key is missing'),
        (
            'name = "team"\nurl = "ntfy://x"\nchannel = "ops"\n',
            'notify[0] ("team").channel: unknown key (expected one of: name, url, on, '
            "min_confidence, hold)",
        ),
    ],
)
def test_a_mistake_names_the_file_the_key_and_what_is_expected(
    tmp_path: Path, entry: str, problem: str
) -> None:
    path = write(tmp_path, "[[notify]]\n" + entry)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == problems_in(path.resolve(), problem).replace(
        str(path.resolve()), str(path)
    )
    assert "T0K3N-SECRET" not in str(caught.value)


def test_two_channels_may_not_share_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, '[[notify]]\nname = "a"\nurl = "ntfy://x"\n' * 2)

    with pytest.raises(ConfigError, match=r"notify\[1\]\.name: duplicate notify name 'a'"):
        load_config(path)


def test_a_single_notify_table_says_to_write_an_array_of_tables(tmp_path: Path) -> None:
    path = write(tmp_path, '[notify]\nname = "a"\nurl = "ntfy://x"\n')

    with pytest.raises(ConfigError, match=r"write \[\[notify\]\], not \[notify\]"):
        load_config(path)


def test_apprise_is_asked_whether_it_can_read_each_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[notify]]\nname = "good"\nurl = "json://127.0.0.1:8080/hook"\n'
        '[[notify]]\nname = "scheme"\nurl = "carrier-pigeon://coop.example.com/${PIGEON_KEY}"\n'
        '[[notify]]\nname = "unset"\nurl = "json://127.0.0.1/${MONITOR_TEST_UNSET}"\n',
    )
    config = load_config(path)

    with pytest.raises(ConfigError) as caught:
        check_channels(config.notify, config.path, env={"PIGEON_KEY": "s3cr3t-pigeon-key"})

    assert str(caught.value) == "\n".join(
        [
            f"{config.path}: 2 problems in config",
            "  notify[1] (\"scheme\").url: Apprise cannot read 'carrier-pigeon://coop.example.com/…': "
            "check the scheme and the parts that service needs, see "
            "https://github.com/caronc/apprise/wiki (each service's URL form)",
            '  notify[2] ("unset").url: ${MONITOR_TEST_UNSET} is not set in the environment; set it '
            "where `monitor run` starts (e.g. the service unit's Environment=)",
        ]
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://user:pass@127.0.0.1:8080/hook?token=abc", "json://127.0.0.1:8080/…"),
        ("ntfy://ntfy.sh/secret-topic", "ntfy://ntfy.sh/…"),
        ("ntfy://secret-topic", "ntfy://…"),
        ("tgram://123456789:ABCdefGhIJK/12345", "tgram://…"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://…"),
        ("mailto://me:${SMTP_PASSWORD}@mail.example.com", "mailto://mail.example.com"),
        ("json://${HOOK_HOST}/x", "json://…"),
        ("json://localhost:9/", "json://localhost:9/…"),
        ("no scheme at all", "…"),
    ],
)
def test_a_url_is_shown_masked(url: str, shown: str) -> None:
    assert masked(url) == shown


def test_what_apprise_says_is_scrubbed_of_the_url_and_its_secrets() -> None:
    url = "json://127.0.0.1:8080/hooks/T0K3N-value-9"
    said = f"Failed to send to {url}: refused; token T0K3N-value-9 Bearer abcdef123456"

    cleaned = scrub(said, url, {"T0K3N-value-9"})

    assert "T0K3N-value-9" not in cleaned
    assert "abcdef123456" not in cleaned
    assert "json://127.0.0.1:8080/…" in cleaned


def test_testing_without_channels_reads_like_every_other_config_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "")

    with pytest.raises(SystemExit) as stopped:
        main(["--config", str(path), "notify", "test"])

    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        f"error: {path}: 1 problem in config\n"
        "  notify: no [[notify]] channel; add one (see the commented example in config.toml)\n"
    )


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (
            [],
            "no notification channels: add a [[notify]] block to the config "
            "(see the commented example in config.toml)\n",
        ),
        (["--json"], "[]\n"),
    ],
)
def test_listing_no_channels_is_an_answer_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], said: str
) -> None:
    path = write(tmp_path, "")

    with pytest.raises(SystemExit) as stopped:
        main(["--config", str(path), "notify", "list", *flags])

    assert stopped.value.code in (0, None)
    assert capsys.readouterr() == (said, "")
