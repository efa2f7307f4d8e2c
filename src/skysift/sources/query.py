"""A light-curve service asked by object IDs and cones (IRSA ``nph_light_curves``, the SNAD API).

The services differ in their requests and answers, not in the loop: IDs go in batches of
``batch_size`` per request, each cone is one request, every cone is checked before the first
request is sent, and the answers are merged and written as a DR release
(:func:`skysift.sources.convert.write_release`). A service module describes its requests with a
:class:`QueryService`; ``query`` and ``fetch`` are then the same for every service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skysift.sources.convert import write_release
from skysift.sources.http import HttpClient, HttpConfig

__all__ = ["QueryService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryService:
    """How one service is asked and read.

    ``ask_ids(client, url, dr, ids, filters)`` and ``ask_cone(client, url, dr, cone, filters)`` send one
    request and return its answer (``cone``: a row of :func:`~skysift.sources.convert.read_cones` with
    ra, dec, radius_arcsec; ``filters``: the bands asked for, or None); ``check_cone(cone)`` raises a
    ValueError for a cone the service refuses; ``combine`` merges the answers; ``to_epochs`` turns the
    merged answer into per-epoch rows and per-object positions (None: the rows carry ra/dec).
    """

    name: str
    unit: str  # what an answer's length counts, for the log
    ask_ids: Callable[[HttpClient, str, str, np.ndarray, list[str] | None], Any]
    ask_cone: Callable[[HttpClient, str, str, Any, list[str] | None], Any]
    check_cone: Callable[[Any], None]
    combine: Callable[[list[Any]], Any]
    to_epochs: Callable[[Any], tuple[pd.DataFrame, pd.DataFrame | None]]

    def query(
        self,
        url: str,
        dr: str,
        *,
        ids=None,
        cones: pd.DataFrame | None = None,
        filters: list[str] | None = None,
        batch_size: int = 50,
        http: HttpClient | HttpConfig | dict | None = None,
    ) -> Any:
        """Run the ID and/or cone queries against ``url`` for release ``dr``; the merged answer."""
        client = http if isinstance(http, HttpClient) else HttpClient(http)
        requests: list[Callable[[], Any]] = []
        if ids is not None and len(ids):
            ids = np.asarray(ids, dtype=np.int64)
            for start in range(0, len(ids), batch_size):
                requests.append(
                    partial(self.ask_ids, client, url, dr, ids[start : start + batch_size], filters)
                )
        if cones is not None:
            for cone in cones.itertuples(index=False):
                self.check_cone(cone)
                requests.append(partial(self.ask_cone, client, url, dr, cone, filters))
        if not requests:
            raise ValueError(f"{self.name}: nothing to query; set fetch.ids_file or fetch.cones_file")
        answers = []
        for i, ask in enumerate(requests, 1):
            answers.append(ask())
            log.info("%s query %d/%d: %d %s", self.name, i, len(requests), len(answers[-1]), self.unit)
        merged = self.combine(answers)
        log.info("%s %s: %d queries, %d %s", self.name, dr, len(requests), len(merged), self.unit)
        return merged

    def fetch(self, url: str, dr: str, release_root: str | Path, **queries: Any) -> list[Path]:
        """Run the queries (the keyword arguments of :meth:`query`) and write the answer as a DR release
        (files + checksum.md5) under ``release_root``."""
        epochs, positions = self.to_epochs(self.query(url, dr, **queries))
        return write_release(epochs, release_root, dr, positions=positions)
