"""TNS' bot conventions, shared by the catalog download (crossmatch) and the bulk report (tnsreport)."""

from __future__ import annotations

import json
import os

from skysift.io import InputError
from skysift.net.retry import FetchError

__all__ = ["TNSError", "tns_api_key", "tns_user_agent"]


class TNSError(FetchError):
    """TNS refused a request or failed for good (the API key is never part of the message)."""


def tns_user_agent(bot_id: int, bot_name: str) -> str:
    """The User-Agent TNS requires from bots: tns_marker{"tns_id": ID, "type": "bot", "name": NAME}."""
    return "tns_marker" + json.dumps({"tns_id": int(bot_id), "type": "bot", "name": bot_name})


def tns_api_key(env: str, key: str) -> str:
    """The TNS bot API key from environment variable ``env`` (named by config key ``key``; never logged)."""
    value = os.environ.get(env, "").strip()
    if not value:
        raise InputError(
            f"environment variable {env} ({key}) is not set: export your TNS bot API key there "
            "(never put it in the config)"
        )
    return value
