"""``monitor notify``: try the ``[[notify]]`` channels, and see what they were sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.render import echo, echo_json, echo_table, short_time
from monitor.errors import ConfigError
from monitor.times import isoformat_z

if TYPE_CHECKING:
    from monitor.notify.settings import NotifySettings
    from monitor.store.notifications import NotificationRecord


@click.group("notify")
def notify() -> None:
    """Notifications when the answer changes: try the channels, list them.

    Channels are the `[[notify]]` entries of the config (an Apprise URL each:
    ntfy, Slack, Discord, e-mail, a JSON webhook and many more). `monitor
    run` sends them a message when its answer (is it me or is it them?)
    changes and the new answer has held for the channel's `hold`.

    \b
    Examples:
      monitor notify test
      monitor notify test team-chat
      monitor notify list
    """


@notify.command("test")
@click.argument("name", required=False)
@pass_app
def test_command(app: App, name: str | None) -> None:
    """Send a test message to each channel (or NAME), now, and say whether it was delivered.

    One attempt per channel, no retries, so the answer comes at once; the
    outcome is recorded with the service's messages. Exit status 1 if any
    channel did not take it.

    \b
    Examples:
      monitor notify test
      monitor notify test pager
    """
    config = app.config
    channels = _selected(config.notify, name, config.path)
    from monitor.notify.channels import masked
    from monitor.notify.deliver import SEND_DEADLINE, apprise_send, bounded, deliver
    from monitor.notify.message import notify_test_message
    from monitor.store.notifications import TEST_KIND, NotificationRecord, record_notification

    store = app.store()
    rows, failed = [], False
    for channel in channels:
        now = datetime.now(UTC)
        message = notify_test_message(channel.name, config.probe, now)
        send = bounded(apprise_send, SEND_DEADLINE)
        delivery = deliver(channel.url, message, send=send, wait=lambda _: True, backoff=())
        record_notification(
            store,
            NotificationRecord(
                probe=config.probe,
                channel=channel.name,
                kind=TEST_KIND,
                verdict=message.verdict,
                confidence="",
                answer="",
                episode_start=None,
                decided_at=now,
                sent_at=datetime.now(UTC) if delivery.delivered else None,
                attempts=delivery.attempts,
                error=delivery.error,
                title=message.title,
                body=message.body,
            ),
        )
        failed = failed or not delivery.delivered
        outcome = "delivered" if delivery.delivered else f"NOT delivered: {delivery.error}"
        rows.append([channel.name, masked(channel.url), outcome])
    echo_table(["CHANNEL", "URL", "RESULT"], rows)
    if failed:
        raise click.exceptions.Exit(1)


@notify.command("list")
@json_option
@pass_app
def list_command(app: App, as_json: bool) -> None:
    """Each channel: its URL (masked), what it is told, and the last message it was sent.

    --json gives one object per channel: `name`, `url` (masked), `on`,
    `min_confidence`, `hold_seconds` and `last_message` (null, or `at`,
    `sent_at`, `kind`, `verdict`, `delivered`, `attempts`, `error`, `title`).

    \b
    Examples:
      monitor notify list
      monitor notify list --json
    """
    config = app.config
    channels = list(config.notify)
    if not channels:
        # A listing of nothing is an answer, not an error: say how to add one.
        if as_json:
            echo_json([])
        else:
            echo(NO_CHANNELS)
        return
    from monitor.store.notifications import recent_notifications

    store = app.store()
    lasts = [
        next(iter(recent_notifications(store, probe=config.probe, channel=c.name, limit=1)), None)
        for c in channels
    ]
    if as_json:
        echo_json([channel_dict(c, last) for c, last in zip(channels, lasts, strict=True)])
        return
    _print_channels(channels, lasts)


def _print_channels(channels: list[NotifySettings], lasts: list[NotificationRecord | None]) -> None:
    from monitor.notify.channels import masked

    rows = []
    for channel, last in zip(channels, lasts, strict=True):
        if last:
            state = "delivered" if last.delivered else "NOT delivered"
            said = f"{short_time(last.decided_at)} {last.kind}, {state}: {last.title}"
        else:
            said = "-"
        rows.append(
            [
                channel.name,
                masked(channel.url),
                ",".join(channel.on),
                channel.min_confidence,
                _duration(channel),
                said,
            ]
        )
    echo_table(["CHANNEL", "URL", "ON", "MIN CONFIDENCE", "HOLD", "LAST MESSAGE"], rows)


def channel_dict(channel: NotifySettings, last: NotificationRecord | None) -> dict[str, Any]:
    """One channel as ``notify list --json`` has it; its URL masked as the table shows it."""
    from monitor.notify.channels import masked

    return {
        "name": channel.name,
        "url": masked(channel.url),
        "on": list(channel.on),
        "min_confidence": channel.min_confidence,
        "hold_seconds": channel.hold.total_seconds(),
        "last_message": None
        if last is None
        else {
            "at": isoformat_z(last.decided_at),
            "sent_at": isoformat_z(last.sent_at),
            "kind": last.kind,
            "verdict": last.verdict,
            "delivered": last.delivered,
            "attempts": last.attempts,
            "error": last.error,
            "title": last.title,
        },
    }


NO_CHANNELS = (
    "no notification channels: add a [[notify]] block to the config "
    "(see the commented example in config.toml)"
)


def _selected(
    channels: tuple[NotifySettings, ...], name: str | None, path: object
) -> list[NotifySettings]:
    if not channels:
        raise ConfigError.listing(
            str(path),
            ["notify: no [[notify]] channel; add one (see the commented example in config.toml)"],
        )
    if name is None:
        return list(channels)
    chosen = [c for c in channels if c.name == name]
    if not chosen:
        known = ", ".join(c.name for c in channels)
        raise click.BadParameter(
            f"no channel named {name!r} (configured: {known})", param_hint="'NAME'"
        )
    return chosen


def _duration(channel: NotifySettings) -> str:
    from monitor.times import format_duration

    return format_duration(channel.hold)
