"""Tests for monitor.sources.feed: facts read from real Statuspage history feeds."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from monitor.errors import ParseError
from monitor.sources.feed import parse
from monitor.sources.records import IncidentRecord, MaintenanceRecord, Snapshot
from tests.fuzzing import no_hang

FIXTURES = Path(__file__).parent / "fixtures"
SAUCE = FIXTURES / "saucelabs" / "us-west-1-history.atom"
DO_ATOM = FIXTURES / "digitalocean" / "history.atom"
DO_RSS = FIXTURES / "digitalocean" / "history.rss"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def records(snapshot: Snapshot) -> list[IncidentRecord | MaintenanceRecord]:
    found: list[IncidentRecord | MaintenanceRecord] = [*snapshot.incidents]
    found.extend(snapshot.maintenances)
    return found


def by_id(snapshot: Snapshot) -> dict[str, IncidentRecord | MaintenanceRecord]:
    return {r.external_id: r for r in records(snapshot)}


def block(stamp: str, status: str, body: str) -> str:
    """One Statuspage timeline block, as the feeds write it (before XML escaping)."""
    return f"<p><small>{stamp}</small><br><strong>{status}</strong> - {body}</p>"


def rss(*items: str, title: str = "Example Status - Incident History") -> bytes:
    body = "".join(items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://status.example.com</link>{body}</channel></rss>"
    ).encode()


def rss_item(title: str, html: str, pub: str | None, code: str = "abc123") -> str:
    pub_xml = f"<pubDate>{pub}</pubDate>" if pub else ""
    return (
        f"<item><title>{escape(title)}</title><description>{escape(html)}</description>"
        f"{pub_xml}<link>https://status.example.com/incidents/{code}</link></item>"
    )


def atom(published: str, html: str, code: str = "abc123", updated: str | None = None) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Example</title><entry><id>tag:x,2005:Incident/1</id>"
        f"<published>{published}</published><updated>{updated or published}</updated>"
        f'<link rel="alternate" href="https://status.example.com/incidents/{code}"/>'
        f'<title>Example incident</title><content type="html">{escape(html)}</content>'
        "</entry></feed>"
    ).encode()


def atom_as_rss(payload: bytes) -> bytes:
    """Re-wrap an Atom fixture's raw entries as RSS items, keeping the content bytes as-is."""
    text = payload.decode()
    items = []
    for entry in re.findall(r"<entry>(.*?)</entry>", text, re.S):
        published = datetime.fromisoformat(re.findall(r"<published>(.*?)</published>", entry)[0])
        link = re.findall(r'<link rel="alternate" type="text/html" href="(.*?)"/>', entry)[0]
        title = re.findall(r"<title>(.*?)</title>", entry, re.S)[0]
        content = re.findall(r'<content type="html">(.*?)</content>', entry, re.S)[0]
        items.append(
            f"<item><title>{title}</title><description>{content}</description>"
            f"<pubDate>{format_datetime(published)}</pubDate><link>{link}</link></item>"
        )
    feed_title = re.findall(r"<title>(.*?)</title>", text)[0]
    return rss(*items, title=feed_title)


# --- Sauce Labs (Atom, times in PST/PDT) -------------------------------------------------


def test_it_reads_all_25_saucelabs_entries():
    snapshot = parse(SAUCE.read_bytes())
    assert len(snapshot.incidents) + len(snapshot.maintenances) == 25
    assert (len(snapshot.incidents), len(snapshot.maintenances)) == (19, 6)
    assert snapshot.page_name == "Sauce Labs US West Data Center Status - Incident History"
    assert snapshot.components is None
    assert snapshot.notes == ()


def test_it_converts_a_pst_timeline_to_utc():
    incident = parse(SAUCE.read_bytes()).incidents[0]
    assert isinstance(incident, IncidentRecord)
    assert incident.external_id == "08fk1fzrw8p8"
    assert incident.title == "2020-Nov-14 Service Incident"
    assert incident.url == "https://status.us-west-1.saucelabs.com/incidents/08fk1fzrw8p8"
    assert [u.status for u in incident.updates] == ["resolved", "monitoring"]
    resolved, monitoring = incident.updates
    assert resolved.created_at == utc(2020, 11, 14, 22, 7)  # Nov 14, 14:07 PST
    assert resolved.body == "Tunnels are starting successfully. This incident has been resolved."
    assert monitoring.created_at == utc(2020, 11, 14, 21, 51)  # 13:51 PST
    assert incident.status == "resolved"
    assert incident.resolved_at == utc(2020, 11, 14, 22, 7)
    assert incident.started_at == incident.created_at == utc(2020, 11, 14, 21, 51)
    assert incident.impact is None


def test_it_converts_pdt_times_with_minus_seven_hours():
    incident = by_id(parse(SAUCE.read_bytes()))["r2blywd644xj"]  # "2020-October-02 ..."
    # Oct 2, 04:59 / 04:30 / 02:55 PDT
    assert [(u.status, u.created_at) for u in incident.updates] == [
        ("resolved", utc(2020, 10, 2, 11, 59)),
        ("monitoring", utc(2020, 10, 2, 11, 30)),
        ("identified", utc(2020, 10, 2, 9, 55)),
    ]


def test_it_skips_plain_update_words_when_choosing_the_incident_status():
    incident = by_id(parse(SAUCE.read_bytes()))["l574fpgy32zg"]
    assert isinstance(incident, IncidentRecord)
    assert [u.status for u in incident.updates] == [
        "resolved", "update", "update", "update", "investigating",
    ]  # fmt: skip
    assert incident.status == "resolved"
    assert incident.created_at == utc(2020, 9, 21, 11, 12)


def test_it_makes_maintenance_records_of_the_saucelabs_maintenance_windows():
    snapshot = parse(SAUCE.read_bytes())
    assert {m.external_id: m.title for m in snapshot.maintenances} == {
        "4zvfxb1g2lxj": "Sauce Labs Planned Maintenance",
        "xkjy83lsj7ll": "Sauce Labs Planned Maintenance",
        "r9j0ydp9s62z": "Sauce Labs Unplanned Maintenance",
        "pbskxdzz9y7k": "Sauce Labs Planned Maintenance",
        "tkmjw5j0ttpv": "Sauce Labs Planned",
        "b0ghrz356xzn": "Sauce Labs Planned Maintenance",
    }
    window = by_id(snapshot)["4zvfxb1g2lxj"]
    assert isinstance(window, MaintenanceRecord)
    assert [u.status for u in window.updates] == ["completed", "in_progress", "scheduled"]
    assert window.status == "completed"
    assert window.impact == "maintenance"
    assert window.started_at == window.scheduled_for == utc(2020, 10, 24, 17, 0)  # 10:00 PDT
    assert window.completed_at == window.scheduled_until == utc(2020, 10, 24, 17, 59)
    assert window.updates[-1].created_at == utc(2020, 10, 16, 23, 28)


# --- DigitalOcean (RSS and Atom, times in UTC) ---------------------------------------------


def test_it_reads_the_digitalocean_rss_feed():
    snapshot = parse(DO_RSS.read_bytes())
    assert (len(snapshot.incidents), len(snapshot.maintenances)) == (19, 6)
    assert snapshot.page_name == "DigitalOcean Status - Incident History"
    incident = by_id(snapshot)["3vhcly1y2kgz"]
    assert isinstance(incident, IncidentRecord)
    assert incident.title == "Issue with restoring Backups on Managed Databases in our SFO2 region"
    assert incident.created_at == utc(2020, 1, 18, 7, 29)
    assert incident.resolved_at == utc(2020, 1, 18, 10, 13)


def test_it_reads_the_in_progress_ams3_maintenance_from_rss():
    window = by_id(parse(DO_RSS.read_bytes()))["x0xytvsvky35"]
    assert isinstance(window, MaintenanceRecord)
    assert window.title == "AMS3 Region Network Maintenance"
    assert window.status == "in_progress"
    assert window.started_at == window.scheduled_for == utc(2020, 1, 21, 21, 0)
    assert window.completed_at is None
    assert window.scheduled_until is None
    scheduled = window.updates[1]
    assert (scheduled.status, scheduled.created_at) == ("scheduled", utc(2020, 1, 21, 20, 59))
    # <br /><br /> kept as a paragraph break; no tags survive.
    assert "AMS3 location.\n\nExpected Impact:\n\nThere may be" in scheduled.body


def test_it_treats_verifying_as_a_maintenance_status():
    window = by_id(parse(DO_RSS.read_bytes()))["2yyk6j58xcxh"]
    assert window.title == "Disruption of DigitalOcean Email Notifications"
    assert isinstance(window, MaintenanceRecord)
    assert [u.status for u in window.updates] == [
        "completed", "verifying", "in_progress", "scheduled",
    ]  # fmt: skip


def test_it_reads_the_digitalocean_atom_feed():
    snapshot = parse(DO_ATOM.read_bytes())
    assert (len(snapshot.incidents), len(snapshot.maintenances)) == (24, 1)
    assert snapshot.maintenances[0].external_id == "g4h15s1jcbmy"
    first = snapshot.incidents[0]
    assert first.title == "Event Processing Delays & Droplet Creates Issue"
    assert first.created_at == utc(2019, 10, 29, 15, 5)
    assert first.resolved_at == utc(2019, 10, 30, 23, 5)


def test_it_strips_tags_and_unescapes_entities_in_bodies():
    snapshot = parse(DO_ATOM.read_bytes())
    portal = by_id(snapshot)["gj38s895n48k"]
    assert "Access to Q&A," in portal.updates[0].body
    bodies = [u.body for r in records(snapshot) for u in r.updates]
    assert len(bodies) == 95
    assert not [b for b in bodies if "<" in b or "&amp;" in b or "&#" in b]


def test_it_finds_no_shared_incidents_in_the_digitalocean_fixtures():
    # The two fixtures come from different days: Atom covers 2019-09-27..10-30, RSS
    # 2019-12-05..2020-01-21, so agreement is checked on converted entries below.
    assert not set(by_id(parse(DO_ATOM.read_bytes()))) & set(by_id(parse(DO_RSS.read_bytes())))


@pytest.mark.parametrize("path", [SAUCE, DO_ATOM], ids=["saucelabs", "digitalocean"])
def test_it_reads_the_same_entries_identically_from_rss_and_atom(path):
    from_atom = parse(path.read_bytes())
    from_rss = parse(atom_as_rss(path.read_bytes()))
    assert from_rss == from_atom
    assert len(from_rss.incidents) + len(from_rss.maintenances) == 25


@pytest.mark.parametrize("path", [SAUCE, DO_ATOM, DO_RSS], ids=["sauce", "do-atom", "do-rss"])
def test_it_gives_identical_records_and_ids_when_parsing_twice(path):
    first, second = parse(path.read_bytes()), parse(path.read_bytes())
    assert first == second
    ids = [u.external_id for r in records(first) for u in r.updates]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


# --- Inline feeds for rules the fixtures do not exercise -------------------------------------


def test_it_infers_the_previous_year_for_an_update_before_new_year():
    html = block("Jan 1, 00:20 UTC", "Resolved", "Fixed.") + block(
        "Dec <var>31</var>, <var>23:50</var> UTC", "Investigating", "Looking."
    )
    snapshot = parse(rss(rss_item("Outage", html, "Fri, 01 Jan 2021 00:30:00 +0000")))
    incident = snapshot.incidents[0]
    assert [u.created_at for u in incident.updates] == [
        utc(2021, 1, 1, 0, 20),
        utc(2020, 12, 31, 23, 50),
    ]
    assert incident.created_at == utc(2020, 12, 31, 23, 50)
    assert incident.resolved_at == utc(2021, 1, 1, 0, 20)


def test_it_never_dates_an_update_after_the_item_that_carries_it():
    # Statuspage dates an item by its latest update, so the June "Scheduled" post in an
    # item dated 2026-01-10 was written in June 2025, not (nearer in time) June 2026.
    html = (
        block("Jan 10, 12:00 UTC", "Completed", "Done.")
        + block("Jan 10, 10:00 UTC", "In progress", "Working.")
        + block("Jun 1, 10:00 UTC", "Scheduled", "Planned for Jan 10.")
    )
    for payload in (
        atom("2026-01-10T12:00:00Z", html),
        rss(rss_item("Work", html, "Sat, 10 Jan 2026 12:00:00 +0000")),
    ):
        window = parse(payload).maintenances[0]
        assert [(u.status, u.created_at) for u in window.updates] == [
            ("completed", utc(2026, 1, 10, 12, 0)),
            ("in_progress", utc(2026, 1, 10, 10, 0)),
            ("scheduled", utc(2025, 6, 1, 10, 0)),
        ]
        assert window.scheduled_for == window.started_at == utc(2026, 1, 10, 10, 0)
        assert window.scheduled_until == window.completed_at == utc(2026, 1, 10, 12, 0)


def test_it_bounds_update_years_by_the_later_of_published_and_updated():
    # Published 2025-12-20, last touched 2026-01-02: a "Jan 2" update is from 2026. With
    # the published date alone as the bound it would have to be 2025-01-02.
    html = block("Jan 2, 09:00 UTC", "Resolved", "Fixed.") + block(
        "Dec 20, 08:00 UTC", "Investigating", "Looking."
    )
    snapshot = parse(atom("2025-12-20T08:05:00Z", html, updated="2026-01-02T09:00:00Z"))
    assert [u.created_at for u in snapshot.incidents[0].updates] == [
        utc(2026, 1, 2, 9, 0),
        utc(2025, 12, 20, 8, 0),
    ]


def test_it_allows_a_day_of_slack_after_the_item_date_for_zone_mistakes():
    # The page says UTC but meant local time: the stamp lands hours after the item date.
    # It is still this year's Mar 10, not last year's.
    html = block("Mar 10, 06:00 UTC", "Investigating", "Slow.")
    snapshot = parse(atom("2021-03-10T00:30:00Z", html))
    assert snapshot.incidents[0].updates[0].created_at == utc(2021, 3, 10, 6, 0)


def test_it_gives_a_maintenance_that_has_not_started_no_window():
    # The "Scheduled" post's time is when the work was announced; the planned window is
    # only in prose, so an unstarted maintenance must not look like one open since Jan 1.
    html = block("Jan 1, 09:00 UTC", "Scheduled", "We will upgrade on Jan 15, 02:00 UTC.")
    window = parse(atom("2026-01-01T09:00:00Z", html)).maintenances[0]
    assert window.status == "scheduled"
    assert window.updates[0].created_at == utc(2026, 1, 1, 9, 0)
    assert window.scheduled_for is None
    assert window.scheduled_until is None
    assert window.started_at is None
    assert window.completed_at is None


def test_it_cannot_place_yearless_stamps_in_an_item_without_any_date():
    # With no published or updated date there is nothing to take the year from: the
    # update is skipped, and then the item, each with a note. A stamp that carries its
    # own year is still read (its zone is taken as written).
    html = block("Jun 2, 10:00 UTC", "Resolved", "Fixed.")
    snapshot = parse(rss(rss_item("No dates", html, None)))
    assert snapshot.incidents == ()
    assert snapshot.notes == (
        "item 'No dates': could not read update time 'Jun 2, 10:00 UTC'; update skipped",
        "skipped item 'No dates': no update times and no published date",
    )
    dated = block("Jun 2, 2020, 10:00 UTC", "Resolved", "Fixed.")
    incident = parse(rss(rss_item("No dates", dated, None))).incidents[0]
    assert incident.resolved_at == utc(2020, 6, 2, 10, 0)


def test_it_falls_back_to_the_published_offset_for_an_unknown_zone():
    html = block("Mar 10, 08:30 MSK", "Investigating", "Slow.") + block(
        "Mar 10, 08:00", "Investigating", "Slower."
    )
    snapshot = parse(atom("2021-03-10T09:00:00+03:00", html))
    assert [u.created_at for u in snapshot.incidents[0].updates] == [
        utc(2021, 3, 10, 5, 30),
        utc(2021, 3, 10, 5, 0),
    ]
    assert snapshot.incidents[0].status == "investigating"
    assert snapshot.notes == (
        "unknown time zone abbreviation 'MSK' in update times: "
        "assumed UTC+03:00 (the item's published offset)",
        "no time zone abbreviation in update times: "
        "assumed UTC+03:00 (the item's published offset)",
    )


def test_it_reads_stamps_with_an_explicit_year():
    html = block("Nov 14, 2020 - 14:07 PST", "Resolved", "Done.") + block(
        "Nov 14, 2020, 13:51 PST", "In progress", "Working."
    )
    snapshot = parse(rss(rss_item("Work", html, "Mon, 01 Mar 2021 00:00:00 +0000")))
    window = snapshot.maintenances[0]
    assert [(u.status, u.created_at) for u in window.updates] == [
        ("resolved", utc(2020, 11, 14, 22, 7)),
        ("in_progress", utc(2020, 11, 14, 21, 51)),
    ]


def test_it_moves_the_affected_components_sentence_into_components():
    html = block(
        "Jun 2, 10:00 UTC",
        "Resolved",
        "All good again.<br><br>This incident affected: API, Dashboard &amp; Admin and Webhooks.",
    )
    maintenance_html = block("Jun 3, 10:00 UTC", "Completed", "Done.") + (
        "<p>This scheduled maintenance affected: Compute (Droplets, Volumes), and API.</p>"
    )
    snapshot = parse(
        rss(
            rss_item("Outage", html, "Tue, 02 Jun 2020 10:00:00 +0000", code="inc1"),
            rss_item("Window", maintenance_html, "Wed, 03 Jun 2020 10:00:00 +0000", code="mnt1"),
        )
    )
    incident, window = snapshot.incidents[0], snapshot.maintenances[0]
    assert incident.components == ("API", "Dashboard & Admin", "Webhooks")
    assert incident.updates[0].body == "All good again."
    assert window.components == ("Compute (Droplets, Volumes)", "API")
    assert window.updates[0].body == "Done."


def test_it_keeps_a_non_statuspage_item_as_an_unknown_incident():
    item = (
        "<item><title>Database slow</title><description>We are &lt;b&gt;looking&lt;/b&gt; "
        "into it.</description><pubDate>Tue, 02 Jun 2020 10:00:00 +0000</pubDate>"
        "<guid isPermaLink='false'>evt-42</guid></item>"
    )
    incident = parse(rss(item)).incidents[0]
    assert incident.external_id == "evt-42"
    assert incident.url is None
    assert incident.status == "unknown"
    assert incident.resolved_at is None
    assert incident.created_at == utc(2020, 6, 2, 10, 0)
    assert [(u.status, u.body) for u in incident.updates] == [
        ("unknown", "We are looking into it.")
    ]


def test_it_skips_an_item_without_any_time_and_says_so():
    snapshot = parse(rss(rss_item("No dates", "<p>Something happened.</p>", None)))
    assert snapshot.incidents == ()
    assert snapshot.notes == ("skipped item 'No dates': no update times and no published date",)


def test_it_gives_distinct_ids_to_same_minute_updates():
    html = block("Jun 2, 10:00 UTC", "Update", "Second.") + block(
        "Jun 2, 10:00 UTC", "Update", "First."
    )
    updates = (
        parse(rss(rss_item("x", html, "Tue, 02 Jun 2020 10:05:00 +0000"))).incidents[0].updates
    )
    assert updates[0].external_id != updates[1].external_id
    assert (
        parse(rss(rss_item("x", html, "Tue, 02 Jun 2020 10:05:00 +0000"))).incidents[0].updates
        == updates
    )


def test_it_accepts_a_feed_with_no_items():
    snapshot = parse(rss())
    assert snapshot == Snapshot(page_name="Example Status - Incident History")


def test_it_ignores_a_benign_encoding_override():
    payload = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>Caf\xe9 Status</title></feed>"
    )
    assert parse(payload).page_name == "Café Status"


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"", b"  \n"])
def test_it_rejects_an_empty_payload(payload):
    with pytest.raises(ParseError, match="empty payload"):
        parse(payload)


def test_it_rejects_an_html_page():
    page = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body></body></html>"
    with pytest.raises(ParseError) as caught:
        parse(page)
    assert caught.value.reason == "expected an RSS or Atom feed, got an HTML page"


@pytest.mark.parametrize("path", [SAUCE, DO_RSS], ids=["atom", "rss"])
@pytest.mark.parametrize("cut", ["half", "last-10-bytes"])
def test_it_rejects_a_truncated_feed_instead_of_returning_some_entries(path, cut):
    payload = path.read_bytes()
    truncated = payload[: len(payload) // 2] if cut == "half" else payload[:-10]
    with pytest.raises(ParseError, match=r"^feed is not well-formed XML \(truncated\?\): "):
        parse(truncated)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"garbage", "got something that is not XML"),
        (b'{"status": "ok"}', "got something that is not XML"),
        (b"<?xml version='1.0'?><status>ok</status>", "XML without an <rss> or <feed> root"),
    ],
)
def test_it_rejects_payloads_that_are_not_feeds(payload, reason):
    with pytest.raises(ParseError, match=re.escape(reason)):
        parse(payload)


def test_it_never_reads_the_payload_as_a_file_name(tmp_path, monkeypatch):
    # feedparser.parse(bytes) would open a file of that name; parse must stay pure.
    (tmp_path / "feed.xml").write_bytes(SAUCE.read_bytes())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParseError):
        parse(b"feed.xml")


# --- Payloads found by fuzzing (tests/test_fuzz_sources.py) -----------------------------

PUB = "Tue, 02 Jun 2020 10:00:00 +0000"
EXAMPLE_RSS = rss(rss_item("Outage", block("Jun 2, 10:00 UTC", "Resolved", "Ok."), PUB))


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        ("utf-32", "the feed declares encoding 'utf-32' but its bytes are not utf-32"),
        ("UTF-16", "the feed declares encoding 'UTF-16' but its bytes are not UTF-16"),
        ("ascii", "the feed declares encoding 'ascii' but its bytes are not ascii"),
        ("cp037", "the feed declares encoding 'cp037' but its bytes are not cp037"),
        ("punycode", "the feed declares encoding 'punycode' but its bytes are not punycode"),
        ("bogus", "the feed declares encoding 'bogus', which is not one known here"),
        ("zlib", "the feed declares encoding 'zlib', which is not a character encoding"),
        ("UTF\xf0-8", "the feed declares encoding 'UTFð-8', which is not an encoding name"),
    ],
)
def test_it_refuses_a_feed_whose_bytes_do_not_follow_its_declared_encoding(declared, reason):
    # feedparser read these in another encoding without a word, or crashed on the
    # name (UnicodeDecodeError, recorded as an internal error with a traceback).
    payload = DO_RSS.read_bytes().replace(b"UTF-8", declared.encode("latin-1"), 1)
    with pytest.raises(ParseError) as caught:
        parse(payload)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"), id="utf-16-bom"),
        pytest.param(lambda text: text.replace("UTF-8", "UTF-16").encode("utf-16-be"), id="utf-16"),
        pytest.param(lambda text: text.replace("UTF-8", "UTF-32").encode("utf-32"), id="utf-32"),
        pytest.param(lambda text: codecs.BOM_UTF8 + text.encode(), id="utf-8-bom"),
        pytest.param(
            lambda text: text.replace("UTF-8", "cp037").encode("cp037", "xmlcharrefreplace"),
            id="ebcdic",
        ),
        pytest.param(lambda text: text.split("?>", 1)[1].encode(), id="no-declaration"),
    ],
)
def test_it_reads_a_feed_in_any_encoding_its_bytes_and_declaration_agree_on(encode):
    text = DO_RSS.read_text(encoding="utf-8")
    assert parse(encode(text)) == parse(DO_RSS.read_bytes())


def test_it_refuses_bytes_that_contradict_their_byte_order_mark():
    with pytest.raises(ParseError) as caught:
        parse(codecs.BOM_UTF16_LE + EXAMPLE_RSS)
    assert caught.value.reason == (
        "the feed starts with a utf-16-le byte order mark but its bytes are not utf-16-le"
    )


LAUGHS = "\n".join(
    ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
)


@pytest.mark.parametrize(
    ("dtd", "reference", "reason"),
    [
        pytest.param(
            f"<!DOCTYPE rss [\n{LAUGHS}\n]>",
            "&l9;",
            "the feed declares entity 'l1' in terms of others: refused",
            id="billion-laughs",
        ),
        pytest.param(
            f'<!DOCTYPE rss [\n<!ENTITY a "{"A" * 100_000}">\n]>',
            "&a;" * 10_000,
            "the feed's entities would expand to 1,000,000,000 characters: refused",
            id="quadratic",
        ),
        pytest.param(
            '<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/hostname">]>',
            "&secret;",
            "the feed declares a parameter or external entity: refused",
            id="xxe",
        ),
        pytest.param(
            '<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>',
            "",
            "the feed declares a parameter or external entity: refused",
            id="parameter",
        ),
    ],
)
def test_it_refuses_entities_that_could_expand_without_bound(dtd, reference, reason):
    # The quadratic case took feedparser's fallback parser 20 s and 3 GB to expand
    # (expat refuses it; the fallback then expands every literal entity regardless).
    payload = EXAMPLE_RSS.replace(b"?>", b"?>" + dtd.encode(), 1)
    payload = payload.replace(b"<title>", b"<title>" + reference.encode(), 1)
    with no_hang(10), pytest.raises(ParseError) as caught:
        parse(payload)
    assert caught.value.reason.startswith(reason)


def test_it_still_expands_the_character_and_text_entities_an_old_feed_declares():
    dtd = '\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n<!ENTITY co "Example Co">\n]>\n'
    payload = EXAMPLE_RSS.replace(b"?>", b"?>" + dtd.encode(), 1)
    payload = payload.replace(b"<title>", b"<title>A&nbsp;B &co; ", 1)
    assert parse(payload).page_name == "A\xa0B Example Co Example Status - Incident History"


def test_it_never_reads_an_external_dtd(tmp_path):
    secret = tmp_path / "secret.dtd"
    secret.write_text('<!ENTITY leak "SECRET-MARKER">')
    payload = EXAMPLE_RSS.replace(b"?>", f'?><!DOCTYPE rss SYSTEM "file://{secret}">'.encode(), 1)
    snapshot = parse(payload)
    assert "SECRET-MARKER" not in repr(snapshot)
    assert snapshot.incidents[0].title == "Outage"


@pytest.mark.parametrize("reference", ["&#x110000;", "&#xD800;", "&#" + "1" * 5000 + ";"])
def test_it_names_a_character_reference_to_no_character(reference):
    # expat refuses these; feedparser's fallback parser then raised ValueError.
    payload = EXAMPLE_RSS.replace(b"<title>", b"<title>" + reference.encode(), 1)
    with pytest.raises(ParseError) as caught:
        parse(payload)
    assert caught.value.reason.startswith(
        f"feed is not well-formed XML: character reference {reference[:20]}"
    )


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_it_treats_an_item_date_at_the_ends_of_the_calendar_as_no_date(date):
    # Adding a day of slack, or the offset, overflowed past year 9999 or before year 1.
    snapshot = parse(atom(date, block("Jun 2, 10:00 UTC", "Resolved", "Ok.")))
    assert snapshot.incidents == ()
    assert "skipped item 'Example incident': no update times and no published date" in (
        snapshot.notes
    )


@pytest.mark.parametrize("stamp", ["Jan 1, 0001 00:00 JST", "Dec 31, 9999 23:59 PST"])
def test_it_skips_an_update_stamped_at_the_ends_of_the_calendar(stamp):
    html = block(stamp, "Update", "Odd.") + block("Jun 2, 10:00 UTC", "Resolved", "Ok.")
    incident = parse(rss(rss_item("Edge", html, PUB))).incidents[0]
    assert [u.body for u in incident.updates] == ["Ok."]


@pytest.mark.parametrize(
    ("body", "updates", "components"),
    [
        pytest.param("<small>" * 30_000, [("unknown", "")], (), id="unclosed-small"),
        pytest.param("<" * 200_000, [("unknown", "<" * 200_000)], (), id="unclosed-tags"),
        pytest.param(
            "This incident affected: " + "a, " * 100_000 + "b and c",
            [("unknown", "")],
            ("a", "b", "c"),
            id="long-comma-list",
        ),
        pytest.param(
            "This incident affected: " + "a and " * 60_000 + "b",
            [("unknown", "")],
            ("a and " * 59_999 + "a", "b"),
            id="long-and-list",
        ),
    ],
)
def test_it_reads_a_huge_hostile_description_in_linear_time(body, updates, components):
    # Each took from 20 s to many minutes: a pattern rescanned the rest of the text at
    # every tag, comma or "and". Now each takes well under a second.
    with no_hang(10):
        incident = parse(rss(rss_item("Big", body, PUB))).incidents[0]
    assert [(u.status, u.body) for u in incident.updates] == updates
    assert incident.components == components
