"""Article URLs: the cache key (canonical form) and which hosts may be fetched.

The same story reaches us under many spellings: tracking parameters added by
each feed (utm_*, fbclid…), a fragment, an upper-case host. `normalise` maps
them to one key; `choose_canonical` prefers the page's own
`<link rel="canonical">` (RFC 6596) over the address we happened to land on.

Feed links are untrusted input: a feed item pointing at 169.254.169.254 or a
host on the internal network would make the bot fetch it (server-side request
forgery), so links that resolve to non-public addresses are refused unless the
config allows them.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.errors import FetchError

# Query parameters that only say who sent the reader, never which page it is.
# Conservative: a parameter that might pick the page (id, p, ref, from) is kept.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "guce_")
_TRACKING = frozenset((
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "mkt_tok",
    "ncid", "cmpid", "ocid", "sref", "ref_src", "taid", "guccounter", "soc_src", "soc_trk",
    "smid", "_ga", "_gl",
))
_DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str], list[str]]


def normalise(url: str) -> str:
    """Lower-case scheme and host, default port, fragment and tracking parameters
    dropped, an empty path as "/"; the remaining query keeps its order."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, doseq=True), ""))


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in _TRACKING or k.startswith(_TRACKING_PREFIXES)


def choose_canonical(final_url: str, declared: str | None) -> str:
    """The page's declared canonical URL when it is usable, else where we landed.

    A canonical that is a site's home page is ignored: some sites declare "/" on
    every article, and keying articles by it would make them one. So is one on another
    site: a page must not be able to claim (and overwrite the cached text of) another
    publisher's article."""
    if declared:
        absolute = urlsplit(declared)
        if absolute.scheme in ("http", "https") and absolute.hostname \
                and absolute.path.strip("/") \
                and site_of(absolute.hostname) == site_of(host_of(final_url)):
            return normalise(declared)
    return normalise(final_url)


_SECOND_LEVEL = frozenset(("co", "com", "net", "org", "gov", "ac", "edu", "ne", "or"))


def site_of(host: str) -> str:
    """The registrable part of a host, near enough without a public-suffix list:
    news.example.com → example.com, www.example.co.uk → example.co.uk."""
    labels = host.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL \
        else 2
    return ".".join(labels[-keep:])


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def system_resolver(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("DNS lookup failed") from exc
    return [str(info[4][0]) for info in infos]


def check_public(url: str, resolve: Resolver = system_resolver) -> None:
    """Raise FetchError unless every address the URL's host has is public.

    (A DNS answer can change between this check and the connection; this stops
    feed links that name internal hosts, not an attacker who controls DNS.)"""
    host = host_of(url)
    if not host:
        raise FetchError(f"no host in {url!r}", retryable=False)
    addresses = [host] if _is_ip(host) else resolve(host)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise FetchError(f"refused: {host} is a non-public address ({ip})",
                             retryable=False)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
