"""``GET /metrics``: Prometheus' text format, for IT (see ``hub/observability/metrics.py``).

Like every route it needs a token: the gauges tell an outsider how much money is overdue and
which systems are failing. Give Prometheus a token of its own (``hub token create --role it
--name prometheus``) and send it as a bearer token::

    scrape_configs:
      - job_name: concord
        metrics_path: /metrics
        authorization:                      # Authorization: Bearer <token>
          type: Bearer
          credentials_file: /etc/prometheus/concord.token
        static_configs:
          - targets: ["hub:8000"]
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from hub.api.deps import ItRole, SettingsDep
from hub.observability.metrics import exposition

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
)
def metrics(settings: SettingsDep, _token: ItRole) -> Response:
    return Response(exposition(settings), media_type=CONTENT_TYPE_LATEST)
