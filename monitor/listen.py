"""``[http] listen``: where the service's API listens, read from the config.

Pure, standard library only: the config validates with it, the server binds
with it. Accepted: ``HOST:PORT`` with an IPv4 address, ``[IPV6]:PORT``, or
``localhost:PORT`` (read as 127.0.0.1). A bare ``:PORT`` is refused, since
some programs read it as every interface and others as loopback; other host
names are refused too, since what they resolve to (loopback or not) could
change under a running service. Port 0 asks the system for any free port.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

LISTEN_HINT = (
    "an address and port such as '127.0.0.1:9470' (this machine only), '[::1]:9470' "
    "or '0.0.0.0:9470' (every interface; needs a token)"
)
_FORM = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\[\]:]+)):(?P<port>\d{1,5})$")


@dataclass(frozen=True, slots=True)
class Listen:
    """An address to bind: an IP literal (IPv6 without brackets) and a port (0: any free one)."""

    host: str
    port: int

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    @property
    def loopback(self) -> bool:
        """Only this machine can connect (127.0.0.0/8, ::1)."""
        import ipaddress

        return ipaddress.ip_address(self.host).is_loopback

    def url(self, port: int | None = None) -> str:
        """``http://HOST:PORT`` a process on this machine connects to, IPv6 in brackets.

        An unspecified address (``0.0.0.0``, ``::``) accepts loopback
        connections too, so it is advertised as the loopback address.
        """
        unspecified = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - not bound here
        host = unspecified.get(self.host, self.host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port if port is None else port}"


def parse_listen(text: str) -> Listen:
    """Read ``listen``; ValueError says what is accepted."""
    import ipaddress

    match = _FORM.match(text.strip())
    if match is None:
        raise ValueError(f"expected {LISTEN_HINT}, got {text!r}")
    port = int(match["port"])
    if port > 65535:
        raise ValueError(f"port {port} is out of range (0-65535; 0 picks any free port)")
    host = match["v6"] or match["host"]
    if host == "localhost":
        return Listen("127.0.0.1", port)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"expected an IP address or localhost before the port, got {host!r} "
            f"(a host name could resolve elsewhere later); {LISTEN_HINT}"
        ) from None
    if match["v6"] and address.version != 6:
        raise ValueError(f"only an IPv6 address goes in brackets, got {text!r}")
    return Listen(str(address), port)
