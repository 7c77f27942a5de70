# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""What output may show of a secret: the collection's one place for masking.

Every message, warning and result goes through one of these before it leaves a module: ``redact_url`` for a URL
that is not itself a secret (an API's base URL: only its ``user:password@`` goes), ``mask_url`` for a URL that is
one (a paging route: only its host and first path segment stay), ``mask_secrets`` for text that may quote a
password, a token or a routing key (a driver's or an API's error message).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import urlsplit, urlunsplit

MASK = "********"


def redact_url(url):
    """The URL without user:password@ (a URL may carry credentials; messages never do)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


def mask_url(url):
    """The URL as it may be shown when its path or query is a secret: no user info, query or fragment, and only the
    first path segment - Slack and generic webhooks carry their secret in the path (``/services/T000/B000/XXXX``);
    PagerDuty's has none, but one rule for all keeps a misfiled secret out of the output too."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = "%s:%d" % (host, parts.port)
    except ValueError:
        return MASK
    segments = [s for s in (parts.path or "").split("/") if s]
    if len(segments) > 1:
        path = "/%s/%s" % (segments[0], MASK)
    elif segments:
        path = "/" + MASK
    else:
        path = parts.path or ""
    return urlunsplit((parts.scheme, host, path, MASK if parts.query else "", ""))


def mask_secrets(text, secrets):
    """``text`` with every one of ``secrets`` replaced by the mask, the longest first (so a secret that contains
    another goes whole); empty secrets are skipped, and anything but a string is returned as it is."""
    if not isinstance(text, str):
        return text
    for secret in sorted(set(s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
