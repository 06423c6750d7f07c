# -*- coding: utf-8 -*-
# Copyright (c) openshift_migration.velero contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight probe of one container registry: can it be reached, and does it take the credentials?

The probe asks for ``/v2/`` as the Distribution API defines it: 200 means the registry lets us
in; 401 carries a ``WWW-Authenticate`` challenge, either ``Basic`` (send the credentials again
with the request) or ``Bearer realm=...,service=...`` (get a token from the realm with the
credentials, then send the token). A 401 once credentials were sent means they were rejected.

The HTTP exchange goes through a ``fetch`` function so the logic runs in unit tests without a
socket; ``urllib_fetch`` is the real one (standard library only, no new dependency).
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from .image_copy import TOKEN_USER

ATTEMPTS = 3          # connection attempts before a registry counts as unreachable
BACKOFF = 0.5         # seconds before the second attempt, doubled for each later one
TIMEOUT = 10.0        # seconds per request

_TCHARS = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_PARAM = re.compile(rf"({_TCHARS})\s*=\s*(.*)", re.DOTALL)           # key=value or key="quoted"
_START = re.compile(rf"({_TCHARS})(?:\s+(.*))?", re.DOTALL)           # Scheme [first param or token68]


@dataclass(frozen=True)
class RegistrySpec:
    """One entry of the module's ``registries`` option."""

    name: str
    host: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    tls_verify: bool = True
    ca_file: str | None = None
    cluster: str | None = None  # "source" or "destination": with no host, that cluster's internal registry

    @property
    def has_credentials(self) -> bool:
        return bool(self.token or (self.username and self.password is not None))

    def basic_auth(self) -> str:
        """The Authorization header value; a token is sent as the password (OpenShift's registry takes it so)."""
        user = self.username or (TOKEN_USER if self.token else "")
        secret = self.token if self.token else (self.password or "")
        return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()

    def label(self) -> str:
        return f"registry {self.name} ({self.host})"


class Challenge(NamedTuple):
    scheme: str   # lower case: "basic", "bearer", ...
    params: dict  # auth-params, keys lower case, values unquoted


class Response(NamedTuple):
    status: int
    headers: dict  # lower-case header name -> list of values
    body: bytes


class FetchFailed(Exception):
    """No HTTP answer: ``kind`` is "tls" (handshake or certificate), "protocol" (not HTTP(S)) or "connect"."""

    def __init__(self, kind: str, reason: str, certificate: bool = False) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.certificate = certificate  # the TLS failure is an untrusted certificate


Fetch = Callable[[str, dict, bool, "str | None", float], Response]


@dataclass
class RegistryOutcome:
    ok: bool
    detail: str            # what was found, for the check list
    message: str = ""      # the problem, when not ok
    fix: str = ""
    url: str = ""          # the /v2/ URL that answered (or was tried last)


def _split_outside_quotes(text: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_challenges(values: list[str] | str | None) -> list[Challenge]:
    """Challenges of WWW-Authenticate header values (RFC 7235), in order.

    One header may carry several challenges separated by commas, just as the auth-params of one
    challenge are: an item ``Scheme ...`` starts a challenge, an item ``key=value`` continues it.
    A challenge carries auth-params (``realm="x", service=y``) or a token68.
    """
    if values is None:
        return []
    challenges: list[Challenge] = []
    for value in [values] if isinstance(values, str) else values:
        for item in _split_outside_quotes(value or ""):
            param = _PARAM.fullmatch(item)
            if param and challenges:
                challenges[-1].params[param.group(1).lower()] = _unquote(param.group(2))
                continue
            start = _START.fullmatch(item)
            if not start:
                continue  # not a challenge this parser understands; keep the others
            params: dict = {}
            rest = start.group(2) or ""
            if _TOKEN68.fullmatch(rest):
                params["token68"] = rest
            elif rest:
                first = _PARAM.fullmatch(rest)
                if first:
                    params[first.group(1).lower()] = _unquote(first.group(2))
            challenges.append(Challenge(start.group(1).lower(), params))
    return challenges


def _challenges(response: Response) -> list[Challenge]:
    return parse_challenges(response.headers.get("www-authenticate"))


def _ssl_context(tls_verify: bool, ca_file: str | None) -> ssl.SSLContext:
    if not tls_verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Registries answer /v2/ directly; a redirect (to a login page, say) is reported as is."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _failure(error: BaseException) -> FetchFailed:
    reason = getattr(error, "reason", error) if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, ssl.SSLCertVerificationError):
        return FetchFailed("tls", str(getattr(reason, "verify_message", "") or reason), certificate=True)
    if isinstance(reason, ssl.SSLError):
        return FetchFailed("tls", str(reason))
    if isinstance(reason, (http.client.BadStatusLine, http.client.RemoteDisconnected)):
        return FetchFailed("protocol", f"{type(reason).__name__}: {reason}")
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return FetchFailed("connect", "timed out")
    if isinstance(reason, OSError) and reason.strerror:
        return FetchFailed("connect", reason.strerror)
    return FetchFailed("connect", str(reason))


def urllib_fetch(url: str, headers: dict, tls_verify: bool, ca_file: str | None, timeout: float) -> Response:
    """GET ``url``; any HTTP status is a Response, no answer at all raises FetchFailed."""
    handlers: list = [_NoRedirect()]
    if url.startswith("https:"):
        handlers.append(urllib.request.HTTPSHandler(context=_ssl_context(tls_verify, ca_file)))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, _headers(answer.headers), answer.read(65536))
    except urllib.error.HTTPError as error:
        try:
            body = error.read(65536)
        except OSError:
            body = b""
        return Response(error.code, _headers(error.headers), body)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise _failure(error) from error


def _headers(message) -> dict:
    found: dict = {}
    for key, value in (message.items() if message is not None else []):
        found.setdefault(key.lower(), []).append(value)
    return found


def _with_retries(fetch: Fetch, url: str, headers: dict, spec: RegistrySpec, attempts: int, backoff: float,
                  sleep: Callable[[float], None]) -> Response:
    """Retry only when nothing answered (refused, timed out): a TLS or HTTP answer will not change."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return fetch(url, headers, spec.tls_verify, spec.ca_file, TIMEOUT)
        except FetchFailed as failure:
            if failure.kind != "connect" or attempt == attempts:
                raise
        sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # the loop returns or raises


def _base_urls(host: str) -> list[str]:
    host = host.strip().rstrip("/")
    if "://" in host:  # an explicit scheme is honoured as given
        return [host]
    return [f"https://{host}"]


def _token_url(challenge: Challenge) -> str:
    realm = challenge.params.get("realm", "")
    query = {key: challenge.params[key] for key in ("service", "scope") if challenge.params.get(key)}
    if not query:
        return realm
    return realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)


def _token_from(body: bytes) -> str:
    try:
        answer = json.loads(body.decode("utf-8", errors="replace") or "{}")
    except ValueError:
        return ""
    return str(answer.get("token") or answer.get("access_token") or "") if isinstance(answer, dict) else ""


def _rejected(spec: RegistrySpec, url: str) -> RegistryOutcome:
    return RegistryOutcome(False, "credentials rejected",
                           f"{spec.label()} rejected the credentials (401 Unauthorized at {url})",
                           "check username/password or token of this registry", url)


def _needs_credentials(spec: RegistrySpec, url: str, schemes: dict) -> RegistryOutcome:
    wanted = ", ".join(sorted(schemes)) or "unknown"
    return RegistryOutcome(False, "credentials required",
                           f"{spec.label()} requires credentials ({wanted} authentication) and none were given",
                           "give username and password, or token, for this registry", url)


def _refused(spec: RegistrySpec, url: str, schemes: dict) -> RegistryOutcome:
    return _rejected(spec, url) if spec.has_credentials else _needs_credentials(spec, url, schemes)


def _authenticate(spec: RegistrySpec, fetch: Fetch, url: str, first: Response, attempts: int, backoff: float,
                  sleep: Callable[[float], None]) -> RegistryOutcome:
    """Follow the 401 challenge of ``first`` with the credentials."""
    schemes = {challenge.scheme: challenge for challenge in _challenges(first)}
    bearer = schemes.get("bearer")
    if bearer is not None and bearer.params.get("realm"):
        # Without credentials the token is asked for anonymously: public registries hand one out.
        token_url = _token_url(bearer)
        headers = {"Authorization": spec.basic_auth()} if spec.has_credentials else {}
        try:
            answer = _with_retries(fetch, token_url, headers, spec, attempts, backoff, sleep)
        except FetchFailed as failure:
            return RegistryOutcome(False, "token service unreachable",
                                   f"{spec.label()}: its token service {bearer.params['realm']} did not answer: "
                                   f"{failure.reason}", "check that the registry's token service is reachable from here", url)
        if answer.status in (401, 403):
            return _refused(spec, token_url, schemes)
        token = _token_from(answer.body) if answer.status == 200 else ""
        if not token:
            return RegistryOutcome(False, "no token",
                                   f"{spec.label()}: its token service answered HTTP {answer.status} without a token",
                                   "check the registry's token service", url)
        authorization = f"Bearer {token}"
    elif not spec.has_credentials:
        return _needs_credentials(spec, url, schemes)
    elif "basic" in schemes:
        authorization = spec.basic_auth()
    else:
        offered = ", ".join(sorted(schemes)) or "no challenge"
        return RegistryOutcome(False, "unsupported authentication",
                               f"{spec.label()} asks for authentication this probe cannot do ({offered})",
                               "use a registry that offers Basic or Bearer token authentication", url)
    try:
        second = _with_retries(fetch, url, {"Authorization": authorization}, spec, attempts, backoff, sleep)
    except FetchFailed as failure:
        return RegistryOutcome(False, "unreachable", f"{spec.label()} stopped answering: {failure.reason}",
                               "check that the registry runs and is reachable from here", url)
    if second.status == 200:
        what = "accepts the credentials" if spec.has_credentials else "answers with an anonymous token"
        return RegistryOutcome(True, f"{url} {what}", url=url)
    if second.status in (401, 403):
        return _refused(spec, url, schemes)
    return _unexpected(spec, url, second.status)


def _unexpected(spec: RegistrySpec, url: str, status: int) -> RegistryOutcome:
    return RegistryOutcome(False, f"HTTP {status}", f"{spec.label()} answered HTTP {status} at {url}",
                           "check that host points at a container registry (Distribution API v2)", url)


def probe_registry(spec: RegistrySpec, fetch: Fetch = urllib_fetch, attempts: int = ATTEMPTS, backoff: float = BACKOFF,
                   sleep: Callable[[float], None] = time.sleep) -> RegistryOutcome:
    """Whether ``spec``'s registry answers at /v2/ and lets these credentials in; never raises for network trouble."""
    base = _base_urls(spec.host)[0]
    url = f"{base}/v2/"
    try:
        first = _with_retries(fetch, url, {}, spec, attempts, backoff, sleep)
    except FetchFailed as failure:
        if failure.kind in ("tls", "protocol") and base.startswith("https://") and not spec.tls_verify:
            # A plain-HTTP registry: only tried when TLS is not required, and only after HTTPS itself failed.
            url = f"http://{base[len('https://'):]}/v2/"
            try:
                first = _with_retries(fetch, url, {}, spec, attempts, backoff, sleep)
            except FetchFailed as second_failure:
                return _no_answer(spec, url, second_failure, attempts)
        else:
            return _no_answer(spec, url, failure, attempts)
    if first.status == 200:
        return RegistryOutcome(True, f"{url} answers" + (" (no credentials needed)" if spec.has_credentials else ""),
                               url=url)
    if first.status == 401:
        return _authenticate(spec, fetch, url, first, attempts, backoff, sleep)
    return _unexpected(spec, url, first.status)


def _no_answer(spec: RegistrySpec, url: str, failure: FetchFailed, attempts: int) -> RegistryOutcome:
    if failure.kind == "tls" and failure.certificate:
        return RegistryOutcome(False, "certificate not trusted",
                               f"{spec.label()}: its TLS certificate is not trusted ({failure.reason})",
                               "give ca_file with the CA that signed it, or set tls_verify to false", url)
    if failure.kind in ("tls", "protocol"):
        return RegistryOutcome(False, "no HTTPS",
                               f"{spec.label()} does not answer HTTPS at {url} ({failure.reason})",
                               "set tls_verify to false for a plain-HTTP registry, or check host and port", url)
    return RegistryOutcome(False, "unreachable",
                           f"{spec.label()} is unreachable at {url}: {failure.reason} (after {attempts} attempts)",
                           "check host and port, and that the registry runs and is reachable from here", url)
