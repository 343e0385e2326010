"""The classifier against the real error text of the tools people call vendor APIs with.

Each row is a message as the tool prints it (hosts and ids made up, formats
not): git, gh, curl, npm, doctl, the AWS CLI, gcloud, kubectl, Node's HTTP
clients and Python's. The hosts a failure used are read from the same texts.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from monitor.failures import Failure
from monitor.observed import (
    ObservedLine,
    classify,
    fingerprint,
    named_host,
    parse_jsonl,
    parse_text,
)

NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
AT = "2026-04-14T09:41:07Z"
POOL = "HTTPSConnectionPool(host='api.x.com', port=443): Max retries exceeded with url: /v1/x"
CONN = "<urllib3.connection.HTTPSConnection object at 0x7f3b2c1d0e50>"
URLLIB3_DNS = (
    f'requests.exceptions.ConnectionError: {POOL} (Caused by NameResolutionError("{CONN}: '
    "Failed to resolve 'api.x.com' ([Errno -2] Name or service not known)\"))"
)
FETCH_FAILED = (
    "TypeError: fetch failed\n    at node:internal/deps/undici/undici:13185:13\n"
    "    at async main (/home/me/app/index.mjs:500:12) {\n  [cause]: "
)

VOCABULARY = [
    # git (HTTPS through libcurl, and ssh)
    ("git", "fatal: Authentication failed for 'https://github.com/o/r.git/'", "auth_rejected"),
    (
        "git",
        "remote: Invalid username or password.\n"
        "fatal: Authentication failed for 'https://github.com/o/r.git/'",
        "auth_rejected",
    ),
    (
        "git",
        "remote: Support for password authentication was removed on August 13, 2021.\n"
        "remote: Please see https://docs.github.com/en/get-started/getting-started-with-git/"
        "about-remote-repositories#cloning-with-https-urls for information on currently "
        "recommended modes of authentication.",
        "auth_rejected",
    ),
    (
        "git",
        "fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com",
        "dns_failure",
    ),
    (
        "git",
        "fatal: unable to access 'https://github.com/o/r.git/': "
        "The requested URL returned error: 500",
        "server_error",
    ),
    (
        "git",
        "error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502\n"
        "fatal: the remote end hung up unexpectedly",
        "server_error",
    ),
    (
        "git",
        "fatal: unable to access 'https://github.com/o/r.git/': "
        "The requested URL returned error: 503",
        "server_error",
    ),
    (
        "git",
        "remote: Write access to repository not granted.\nfatal: unable to access "
        "'https://github.com/o/r.git/': The requested URL returned error: 403",
        "forbidden",
    ),
    (
        "git",
        "ssh: Could not resolve hostname github.com: Name or service not known\n"
        "fatal: Could not read from remote repository.",
        "dns_failure",
    ),
    (
        "git",
        "ssh: Could not resolve hostname github.com: nodename nor servname provided, or not known",
        "dns_failure",
    ),
    ("git", "git@github.com: Permission denied (publickey).", "auth_rejected"),
    ("git", "ssh: connect to host github.com port 22: Connection timed out", "connect_timeout"),
    ("git", "ssh: connect to host github.com port 22: Operation timed out", "connect_timeout"),
    (
        "git",
        "kex_exchange_identification: Connection closed by remote host\n"
        "Connection closed by 140.82.121.4 port 22",
        "connection_reset",
    ),
    (
        "git",
        "fatal: unable to access 'https://github.com/o/r.git/': "
        "Failed to connect to github.com port 443 after 21045 ms: Timed out",
        "connect_timeout",
    ),
    (
        "git",
        "fatal: unable to access 'https://github.com/o/r.git/': "
        "gnutls_handshake() failed: The TLS connection was non-properly terminated.",
        "tls_error",
    ),
    # gh
    ("gh", "HTTP 401: Bad credentials (https://api.github.com/user)", "auth_rejected"),
    ("gh", "gh: Bad credentials (HTTP 401)", "auth_rejected"),
    ("gh", "HTTP 502: Server Error (https://api.github.com/graphql)", "server_error"),
    (
        "gh",
        "error connecting to api.github.com\n"
        "check your internet connection or https://githubstatus.com",
        "dns_failure",
    ),
    (
        "gh",
        "HTTP 403: API rate limit exceeded for user ID 1234567. "
        "(https://api.github.com/repos/o/r/pulls)",
        "rate_limited",
    ),
    (
        "gh",
        "HTTP 403: You have exceeded a secondary rate limit. Please wait a few minutes "
        "before you try again. (https://api.github.com/graphql)",
        "rate_limited",
    ),
    (
        "gh",
        "HTTP 403: Resource not accessible by integration (https://api.github.com/repos/o/r)",
        "forbidden",
    ),
    (
        "gh",
        "You are not logged into any GitHub hosts. To log in, run: gh auth login",
        "credentials_missing",
    ),
    (
        "gh",
        "gh: To use GitHub CLI in automation, set the GH_TOKEN environment variable.",
        "credentials_missing",
    ),
    ("gh", "To get started with GitHub CLI, please run:  gh auth login", "credentials_missing"),
    (
        "gh",
        'Post "https://api.github.com/graphql": dial tcp 140.82.121.6:443: i/o timeout',
        "connect_timeout",
    ),
    # curl
    ("curl", "curl: (6) Could not resolve host: api.x.com", "dns_failure"),
    (
        "curl",
        "curl: (7) Failed to connect to api.x.com port 443 after 3 ms: Connection refused",
        "connect_refused",
    ),
    (
        "curl",
        "curl: (7) Failed to connect to api.x.com port 443 after 3 ms: Couldn't connect to server",
        "network_unreachable",
    ),
    (
        "curl",
        "curl: (7) Failed to connect to api.x.com port 443 after 2 ms: No route to host",
        "network_unreachable",
    ),
    (
        "curl",
        "curl: (28) Operation timed out after 10001 milliseconds with 0 out of 0 bytes received",
        "timeout",
    ),
    (
        "curl",
        "curl: (28) Failed to connect to api.x.com port 443 after 75003 ms: Connection timed out",
        "connect_timeout",
    ),
    (
        "curl",
        "curl: (28) Failed to connect to api.x.com port 443 after 75003 ms: "
        "Couldn't connect to server",
        "connect_timeout",
    ),
    ("curl", "curl: (28) Resolving timed out after 5000 milliseconds", "dns_failure"),
    (
        "curl",
        "curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to api.x.com:443",
        "tls_error",
    ),
    (
        "curl",
        "curl: (60) SSL certificate problem: unable to get local issuer certificate\n"
        "More details here: https://curl.se/docs/sslcerts.html",
        "tls_error",
    ),
    ("curl", "curl: (22) The requested URL returned error: 401", "auth_rejected"),
    ("curl", "curl: (22) The requested URL returned error: 503", "server_error"),
    ("curl", "curl: (52) Empty reply from server", "connection_reset"),
    ("curl", "curl: (56) Recv failure: Connection reset by peer", "connection_reset"),
    # npm
    (
        "npm",
        "npm ERR! code E401\n"
        'npm ERR! Unable to authenticate, need: Basic realm="GitHub Package Registry"',
        "auth_rejected",
    ),
    (
        "npm",
        "npm error code E401\nnpm error Incorrect or missing password.",
        "auth_rejected",
    ),
    (
        "npm",
        "npm ERR! code E403\nnpm ERR! 403 403 Forbidden - PUT https://registry.npmjs.org/x - "
        'You do not have permission to publish "x".',
        "forbidden",
    ),
    (
        "npm",
        "npm ERR! code E500\nnpm ERR! 500 Internal Server Error - GET https://registry.npmjs.org/x",
        "server_error",
    ),
    ("npm", "npm error code E503", "server_error"),
    (
        "npm",
        "npm ERR! code ENOTFOUND\nnpm ERR! syscall getaddrinfo\nnpm ERR! errno ENOTFOUND\n"
        "npm ERR! network request to https://registry.npmjs.org/x failed, "
        "reason: getaddrinfo ENOTFOUND registry.npmjs.org",
        "dns_failure",
    ),
    (
        "npm",
        "npm ERR! code ETIMEDOUT\nnpm ERR! errno ETIMEDOUT\nnpm ERR! network request to "
        "https://registry.npmjs.org/x failed, reason: connect ETIMEDOUT 104.16.1.35:443",
        "connect_timeout",
    ),
    ("npm", "npm ERR! code ETIMEDOUT\nnpm ERR! errno ETIMEDOUT", "timeout"),
    (
        "npm",
        "npm ERR! code ECONNRESET\nnpm ERR! network request to https://registry.npmjs.org/x "
        "failed, reason: read ECONNRESET",
        "connection_reset",
    ),
    (
        "npm",
        "npm ERR! code EAI_AGAIN\nnpm ERR! syscall getaddrinfo\nnpm ERR! request to "
        "https://registry.npmjs.org/x failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org",
        "dns_failure",
    ),
    # doctl
    ("doctl", "Error: Unable to authenticate you", "auth_rejected"),
    (
        "doctl",
        "Error: GET https://api.digitalocean.com/v2/account: 401 "
        '(request "c8b3f0a4-4d1e-4b6f-9d3a-2e5f7a8b9c0d") Unable to authenticate you',
        "auth_rejected",
    ),
    (
        "doctl",
        "Error: GET https://api.digitalocean.com/v2/droplets: 503 "
        '(request "a1b2c3d4-e503-4f6a-8b7c-9d0e1f2a3b4c") Service Unavailable',
        "server_error",
    ),
    (
        "doctl",
        'Error: Get "https://api.digitalocean.com/v2/account": dial tcp: '
        "lookup api.digitalocean.com on 127.0.0.53:53: server misbehaving",
        "dns_failure",
    ),
    # AWS CLI
    (
        "aws",
        "An error occurred (UnrecognizedClientException) when calling the ListTables "
        "operation: The security token included in the request is invalid.",
        "auth_rejected",
    ),
    (
        "aws",
        "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity "
        "operation: The security token included in the request is invalid.",
        "auth_rejected",
    ),
    (
        "aws",
        "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity "
        "operation: The request signature we calculated does not match the signature you "
        "provided. Check your AWS Secret Access Key and signing method.",
        "auth_rejected",
    ),
    (
        "aws",
        "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: "
        "The security token included in the request is expired",
        "credentials_expired",
    ),
    (
        "aws",
        "An error occurred (ExpiredTokenException) when calling the ListFunctions operation: "
        "The security token included in the request is expired",
        "credentials_expired",
    ),
    (
        "aws",
        "An error occurred (AccessDenied) when calling the AssumeRole operation: "
        "User: arn:aws:iam::123456789012:user/me is not authorized to perform: "
        "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/deploy",
        "forbidden",
    ),
    (
        "aws",
        "An error occurred (AccessDeniedException) when calling the InvokeModel operation: "
        "You don't have access to the model with the specified model ID.",
        "forbidden",
    ),
    (
        "aws",
        "An error occurred (UnauthorizedOperation) when calling the DescribeInstances "
        "operation: You are not authorized to perform this operation.",
        "forbidden",
    ),
    (
        "aws",
        "An error occurred (ThrottlingException) when calling the DescribeStacks operation "
        "(reached max retries: 4): Rate exceeded",
        "rate_limited",
    ),
    (
        "aws",
        "An error occurred (InternalError) when calling the PutObject operation "
        "(reached max retries: 4): We encountered an internal error. Please try again.",
        "server_error",
    ),
    (
        "aws",
        "An error occurred (ServiceUnavailable) when calling the DescribeInstances operation "
        "(reached max retries: 4): Service is unable to handle request.",
        "server_error",
    ),
    (
        "aws",
        'Could not connect to the endpoint URL: "https://sts.us-east-1.amazonaws.com/"',
        "network_unreachable",
    ),
    (
        "aws",
        'Connect timeout on endpoint URL: "https://sts.us-east-1.amazonaws.com/"',
        "connect_timeout",
    ),
    (
        "aws",
        'Unable to locate credentials. You can configure credentials by running "aws configure".',
        "credentials_missing",
    ),
    # gcloud
    (
        "gcloud",
        "ERROR: (gcloud.compute.instances.list) There was a problem refreshing your current "
        "auth tokens: ('invalid_grant: Bad Request', {'error': 'invalid_grant', "
        "'error_description': 'Bad Request'})\nPlease run:\n\n  $ gcloud auth login\n\n"
        "to obtain new credentials.",
        "invalid_grant",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.container.clusters.list) There was a problem refreshing your current "
        "auth tokens: Reauthentication failed. cannot prompt during non-interactive execution.",
        "credentials_expired",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.auth.print-access-token) Reauthentication required.",
        "credentials_expired",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.run.deploy) Please run:\n\n  $ gcloud auth login\n\n"
        "to obtain new credentials.",
        "credentials_expired",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.config.get-value) You do not currently have an active account "
        "selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.",
        "credentials_missing",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.projects.describe) HTTPError 403: The caller does not have permission",
        "forbidden",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.projects.describe) User [me@example.com] does not have permission to "
        "access projects instance [p] (or it may not exist): The caller does not have permission",
        "forbidden",
    ),
    (
        "gcloud",
        "ERROR: (gcloud.run.services.list) HTTPError 503: The service is currently unavailable.",
        "server_error",
    ),
    # kubectl
    ("kubectl", "error: You must be logged in to the server (Unauthorized)", "auth_rejected"),
    (
        "kubectl",
        "error: You must be logged in to the server "
        "(the server has asked for the client to provide credentials)",
        "auth_rejected",
    ),
    (
        "kubectl",
        "Unable to connect to the server: dial tcp 1.2.3.4:443: i/o timeout",
        "connect_timeout",
    ),
    (
        "kubectl",
        "Unable to connect to the server: x509: certificate has expired or is not yet valid: "
        "current time 2026-04-14T09:41:07Z is after 2026-03-01T00:00:00Z",
        "tls_error",
    ),
    (
        "kubectl",
        "Unable to connect to the server: x509: certificate signed by unknown authority",
        "tls_error",
    ),
    (
        "kubectl",
        "Unable to connect to the server: dial tcp: lookup k8s.x.com on 127.0.0.53:53: "
        "no such host",
        "dns_failure",
    ),
    (
        "kubectl",
        "Unable to connect to the server: dial tcp: lookup k8s.x.com on 127.0.0.53:53: "
        "read udp 127.0.0.1:41234->127.0.0.53:53: i/o timeout",
        "dns_failure",
    ),
    (
        "kubectl",
        'Get "https://127.0.0.1:6443/api?timeout=32s": dial tcp 127.0.0.1:6443: '
        "connect: connection refused",
        "connect_refused",
    ),
    (
        "kubectl",
        "The connection to the server localhost:8080 was refused - "
        "did you specify the right host or port?",
        "connect_refused",
    ),
    (
        "kubectl",
        'Error from server (Forbidden): pods is forbidden: User "me" cannot list resource '
        '"pods" in API group "" in the namespace "default"',
        "forbidden",
    ),
    (
        "kubectl",
        "Unable to connect to the server: net/http: request canceled "
        "(Client.Timeout exceeded while awaiting headers)",
        "timeout",
    ),
    # Node HTTP clients (fetch/undici, node-fetch, axios, the http module)
    (
        "node",
        "FetchError: request to https://api.x.com/v1 failed, "
        "reason: getaddrinfo ENOTFOUND api.x.com",
        "dns_failure",
    ),
    (
        "node",
        FETCH_FAILED + "ConnectTimeoutError: Connect Timeout Error (attempted address: "
        "api.x.com:443, timeout: 10000ms)\n    code: 'UND_ERR_CONNECT_TIMEOUT'\n  }\n}",
        "connect_timeout",
    ),
    (
        "node",
        "TypeError: fetch failed { [cause]: { code: 'UND_ERR_CONNECT_TIMEOUT' } }",
        "connect_timeout",
    ),
    (
        "node",
        FETCH_FAILED + "SocketError: other side closed\n    code: 'UND_ERR_SOCKET'\n  }\n}",
        "connection_reset",
    ),
    ("node", "TypeError: fetch failed { [cause]: { code: 'UND_ERR_SOCKET' } }", "connection_reset"),
    (
        "node",
        FETCH_FAILED + "HeadersTimeoutError: Headers Timeout Error\n"
        "    code: 'UND_ERR_HEADERS_TIMEOUT'\n  }\n}",
        "timeout",
    ),
    ("node", "AxiosError: Request failed with status code 401", "auth_rejected"),
    ("node", "AxiosError: Request failed with status code 502", "server_error"),
    ("node", "AxiosError: timeout of 10000ms exceeded", "timeout"),
    ("node", "Error: connect ECONNREFUSED 127.0.0.1:443", "connect_refused"),
    ("node", "Error: read ECONNRESET", "connection_reset"),
    # Python clients (requests/urllib3, httpx, the anthropic and openai SDKs)
    ("python", URLLIB3_DNS, "dns_failure"),
    (
        "python",
        f"requests.exceptions.ConnectionError: {POOL} (Caused by NewConnectionError('{CONN}: "
        "Failed to establish a new connection: [Errno 111] Connection refused'))",
        "connect_refused",
    ),
    (
        "python",
        f"requests.exceptions.ConnectTimeout: {POOL} (Caused by ConnectTimeoutError({CONN}, "
        "'Connection to api.x.com timed out. (connect timeout=10)'))",
        "connect_timeout",
    ),
    (
        "python",
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.x.com', port=443): "
        "Read timed out. (read timeout=30)",
        "timeout",
    ),
    (
        "python",
        "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: "
        "https://api.x.com/v1/x",
        "auth_rejected",
    ),
    (
        "python",
        "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: "
        "https://api.x.com/v1/x",
        "server_error",
    ),
    (
        "python",
        f"requests.exceptions.SSLError: {POOL} (Caused by SSLError(SSLCertVerificationError(1, "
        "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
        "issuer certificate (_ssl.c:1006)')))",
        "tls_error",
    ),
    (
        "python",
        "requests.exceptions.ConnectionError: ('Connection aborted.', "
        "RemoteDisconnected('Remote end closed connection without response'))",
        "connection_reset",
    ),
    (
        "python",
        "httpx.ConnectError: [Errno -3] Temporary failure in name resolution",
        "dns_failure",
    ),
    ("python", "httpx.ConnectError: [Errno 111] Connection refused", "connect_refused"),
    ("python", "httpx.ConnectTimeout: timed out", "connect_timeout"),
    ("python", "httpx.ReadTimeout: timed out", "timeout"),
    (
        "python",
        "httpx.RemoteProtocolError: Server disconnected without sending a response.",
        "connection_reset",
    ),
    (
        "python",
        "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://api.x.com/v1'\n"
        "For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401",
        "auth_rejected",
    ),
    (
        "python",
        "anthropic.AuthenticationError: Error code: 401 - {'type': 'error', 'error': "
        "{'type': 'authentication_error', 'message': 'invalid x-api-key'}}",
        "auth_rejected",
    ),
    (
        "python",
        "anthropic.InternalServerError: Error code: 529 - {'type': 'error', 'error': "
        "{'type': 'overloaded_error', 'message': 'Overloaded'}}",
        "server_error",
    ),
    (
        "python",
        "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API "
        "key provided: sk-proj-****abcd. You can find your API key at "
        "https://platform.openai.com/account/api-keys.', 'type': 'invalid_request_error', "
        "'param': None, 'code': 'invalid_api_key'}}",
        "auth_rejected",
    ),
    (
        "python",
        "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached "
        "for gpt-4o in organization org-abc on tokens per min (TPM)', 'type': 'tokens', "
        "'code': 'rate_limit_exceeded'}}",
        "rate_limited",
    ),
    ("python", "openai.APITimeoutError: Request timed out.", "timeout"),
    # The SDK hides which step failed: nothing to classify by, unless the cause is logged too.
    ("python", "openai.APIConnectionError: Connection error.", Failure.UNCLASSIFIED),
    (
        "python",
        "httpx.ConnectError: [Errno -2] Name or service not known\n\nThe above exception was "
        "the direct cause of the following exception:\n\n"
        "openai.APIConnectionError: Connection error.",
        "dns_failure",
    ),
]


def _ids(rows: list[tuple[str, str, str]]) -> list[str]:
    """``git-3-dns_failure``: the tool, its row number and the class expected."""
    seen: Counter[str] = Counter()
    ids = []
    for tool, _, expected in rows:
        seen[tool] += 1
        ids.append(f"{tool}-{seen[tool]}-{expected}")
    return ids


def read_jsonl(*objects: dict[str, object]) -> list[ObservedLine]:
    items = list(parse_jsonl([json.dumps(o) + "\n" for o in objects], tz=UTC, now=NOW))
    assert all(isinstance(i, ObservedLine) for i in items)
    return items  # type: ignore[return-value]


@pytest.mark.parametrize(("tool", "message", "expected"), VOCABULARY, ids=_ids(VOCABULARY))
def test_it_classifies_what_each_tool_really_prints(tool, message, expected):
    assert classify(message) == expected
    # And once imported: redacted first, then classified.
    [item] = read_jsonl({"at": AT, "error": message})
    assert item.failure_class == expected


def test_the_table_covers_every_tool_and_is_large_enough():
    tools = Counter(tool for tool, _, _ in VOCABULARY)
    assert set(tools) == {
        "git",
        "gh",
        "curl",
        "npm",
        "doctl",
        "aws",
        "gcloud",
        "kubectl",
        "node",
        "python",
    }
    assert len(VOCABULARY) >= 60


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # Addresses, ports and durations are no HTTP status.
        (
            "Failed to connect to 10.0.0.1 port 503 after 401 ms: Connection refused",
            "connect_refused",
        ),
        ("dial tcp 10.0.4.29:503: connect: no route to host", "network_unreachable"),
        ("lookup h.x.com on 10.0.0.2:53: no such host", "dns_failure"),
        ("gave up after 503 milliseconds", Failure.UNCLASSIFIED),
        # An id that happens to read "e503" is not npm's code E503.
        ('request "a1b2c3d4-e503-4f6a-8b7c-9d0e1f2a3b4c" failed oddly', Failure.UNCLASSIFIED),
        # A rate-limit header on a 403 names no limit reached.
        ("HTTP 403 Forbidden x-ratelimit-remaining: 4999", "forbidden"),
        ("401 Unauthorized anthropic-ratelimit-requests-remaining: 49", "auth_rejected"),
        # A local file's permissions are not the vendor's refusal.
        ("EACCES: permission denied, open '/home/me/.npmrc'", Failure.UNCLASSIFIED),
        # A failed read after connecting is a plain timeout, not a connect timeout.
        ("net/http: request canceled (Client.Timeout exceeded while awaiting headers)", "timeout"),
        # "lookup" on its own is no DNS lookup.
        ("cache lookup failed: not found", Failure.UNCLASSIFIED),
        # A 401 saying "access denied" is still a 401 (Azure API Management).
        (
            "401 Access denied due to invalid subscription key. Make sure to provide a valid key.",
            "auth_rejected",
        ),
    ],
)
def test_it_avoids_the_order_traps(error, expected):
    assert classify(error) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            'API Error: 401 {"type":"error","error":{"type":"authentication_error"}}',
            "auth_rejected",
        ),
        ("OAuth token has expired", "credentials_expired"),
        (
            '{"error": "invalid_grant", "error_description": "refresh token revoked"}',
            "invalid_grant",
        ),
        (
            "503 upstream connect error or disconnect/reset before headers. "
            "reset reason: connection timeout",
            "server_error",
        ),
        ("connect ETIMEDOUT 160.79.104.10:443", "connect_timeout"),
        ("ETIMEDOUT", "timeout"),
        ("listen EADDRINUSE: address already in use 127.0.0.1:54545", "port_unavailable"),
        ("Timed out waiting for the OAuth callback... callback timed out", "callback_failed"),
        ("Unexpected token < in JSON at position 0", "protocol_error"),
        ("Request failed with status code 400", "unexpected_status"),
        ("issue #500 is still open", Failure.UNCLASSIFIED),
    ],
)
def test_the_classifications_it_had_still_hold(error, expected):
    assert classify(error) == expected


# --- the host a failure used -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HTTP 401: Bad credentials (https://api.github.com/user)", "api.github.com"),
        ("request to https://API.X.com:8443/v1?a=1 failed", "api.x.com"),
        ("request to https://REDACTED@api.example.com/v1 failed: ECONNREFUSED", "api.example.com"),
        ("GET http://[::1]:8080/health: 503", "::1"),
        ("fatal: Authentication failed for 'https://github.com/o/r.git/'", "github.com"),
        ("getaddrinfo ENOTFOUND api.x.com", "api.x.com"),
        ("getaddrinfo EAI_AGAIN registry.npmjs.org", "registry.npmjs.org"),
        ("curl: (6) Could not resolve host: api.x.com", "api.x.com"),
        ("ssh: Could not resolve hostname github.com: Name or service not known", "github.com"),
        (URLLIB3_DNS, "api.x.com"),
        ("Failed to resolve 'api.x.com' ([Errno -2] Name or service not known)", "api.x.com"),
        ("HTTPSConnectionPool(host='api.x.com', port=443): Read timed out.", "api.x.com"),
        ("curl: (7) Failed to connect to API.X.com port 443 after 3 ms: Refused", "api.x.com"),
        ("error connecting to api.github.com", "api.github.com"),
        ("dial tcp: lookup k8s.x.com on 127.0.0.53:53: no such host", "k8s.x.com"),
        ("dial tcp: lookup k8s.x.com: no such host", "k8s.x.com"),
        # A URL the text points the reader to is not the one that failed.
        (
            "error connecting to api.github.com\n"
            "check your internet connection or https://githubstatus.com",
            "api.github.com",
        ),
        (
            "remote: Please see https://docs.github.com/en/x for information.\n"
            "fatal: Authentication failed for 'https://github.com/o/r.git/'",
            "github.com",
        ),
        ("Incorrect API key. Find yours at https://platform.openai.com/account/api-keys.", None),
        ("socket hang up", None),
        ("connect ECONNREFUSED 127.0.0.1:443", None),
        ("cache lookup failed: not found", None),
        ("", None),
    ],
)
def test_it_names_the_host_a_failure_used(text, expected):
    assert named_host(text) == expected


def test_it_takes_the_host_from_the_text_when_no_target_is_given():
    [text_item] = parse_text(
        [f"{AT} curl: (6) Could not resolve host: api.x.com\n"], tz=UTC, now=NOW
    )
    [json_item] = read_jsonl({"at": AT, "error": "getaddrinfo ENOTFOUND api.x.com"})
    assert isinstance(text_item, ObservedLine)
    assert text_item.target == json_item.target == "api.x.com"


def test_a_given_target_wins_over_the_host_in_the_text():
    [item] = read_jsonl(
        {"at": AT, "error": "getaddrinfo ENOTFOUND api.x.com", "target": "https://h/p?api_key=k1"}
    )
    assert item.target == "https://h/p?api_key=REDACTED"


def test_it_reads_the_host_after_redaction():
    error = "request to https://me:hunter2secret@API.example.com/v1 failed: ECONNREFUSED"
    [item] = read_jsonl({"at": AT, "error": error})
    assert item.target == "api.example.com"
    assert "hunter2secret" not in item.error


def test_a_host_read_from_the_text_leaves_the_fingerprint_as_it_was():
    """The text already identifies the line, and files imported before must not import twice."""
    [item] = read_jsonl({"at": AT, "error": "getaddrinfo ENOTFOUND api.x.com"})
    assert item.target == "api.x.com"
    assert item.fingerprint == fingerprint(item.at, None, item.error, 0)
