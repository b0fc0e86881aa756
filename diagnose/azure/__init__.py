"""Thin Azure clients built from a profile: fetch, never judge. SDKs are imported inside functions."""

from __future__ import annotations

import logging

SDK_LOGGERS = ("azure", "urllib3", "msal")


def quiet_sdk_logs() -> None:
    """No log line of the Azure SDKs, urllib3 or MSAL reaches the user.

    Their failures reach the tool as exceptions, which it words itself; their log lines (an SDK's
    "deserialization error" with a traceback, Cosmos DB's "Marking ... unavailable") would only
    repeat them, badly. Called where the clients are built; a logger the CLI has already given
    a handler of its own (e.g. for a debug mode) is left alone.
    """
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
            logger.propagate = False
