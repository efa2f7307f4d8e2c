"""TNS' bot conventions, shared by the catalog download (crossmatch) and the bulk report (tnsreport)."""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from skysift.io import InputError
from skysift.net.client import HttpClient
from skysift.net.retry import FetchError, HttpSettings, settings_with_http

__all__ = ["TNSBotSettings", "TNSError", "tns_api_key", "tns_user_agent"]

B = TypeVar("B", bound="TNSBotSettings")


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


@dataclass(frozen=True)
class TNSBotSettings:
    """A TNS endpoint and the bot that calls it: the keys the catalog download and the report sender share.

    A subclass adds its own keys and names its flat config section (with the HTTP keys) in ``config_key``.
    """

    url: str
    api_key_env: str
    bot_id: int | None
    bot_name: str
    http: HttpSettings

    config_key: typing.ClassVar[str] = ""

    @classmethod
    def from_config(cls: type[B], section: Mapping[str, Any]) -> B:
        """From the validated config section (its own keys and the five HTTP keys)."""
        return settings_with_http(cls, section, cls.config_key)

    def connect(self) -> tuple[str, HttpClient]:
        """The bot's API key (from the environment, never logged) and a client with TNS' bot User-Agent."""
        if self.bot_id is None:
            raise InputError(
                f"{self.config_key}.bot_id is not set: TNS needs the id of your bot in the User-Agent"
            )
        key = tns_api_key(self.api_key_env, f"{self.config_key}.api_key_env")
        user_agent = tns_user_agent(self.bot_id, self.bot_name)
        return key, HttpClient(self.http, config_key=self.config_key, user_agent=user_agent)
