# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Alertmanager webhook event source for ansible-rulebook.

Receives Alertmanager's webhook payloads (POST, JSON with ``alerts``) and puts one event per alert on the queue:
``{"alert": {...}, "route": {...}, "meta": {...}}``, the shape of ansible.eda.alertmanager, plus ``route``: the
runbook playbook the alert maps to, looked up in a routes file (data, not rules). Every event has a route: an
alert no route names (a new or renamed upstream alert) gets the routes file's ``unknown`` route (triage by
default) with ``known: false``, so a rulebook tells the two apart with ``event.route.known`` and never meets a
null route.

Arguments:
  host: address to listen on (default 127.0.0.1)
  port: port (default 5050)
  endpoint: path that takes the payloads (default alerts)
  routes: path of the routes YAML (default: alert_routes.yml next to the rulebooks)
  token: if set, requests must carry ``Authorization: Bearer <token>``
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import logging
import os
import re

import yaml
from aiohttp import web

LOG = logging.getLogger(__name__)
DEFAULT_ROUTES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                              "alert_routes.yml")
# What an alert no route names runs when the routes file has no `unknown` entry: triage gathers the evidence of
# every section and names the ones whose symptoms show.
UNKNOWN = {"section": "triage", "playbook": "kas.fleet_manager.sop_triage"}


def load_routes(path):
    """The routes of the file, in order, each ``known``; last, its ``unknown`` route (or triage), matching any name."""
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    routes = []
    for entry in data.get("routes", []):
        routes.append(dict(entry, known=True, _pattern=re.compile(entry["alertname"])))
    unknown = data.get("unknown") or UNKNOWN
    routes.append({"section": unknown["section"], "playbook": unknown["playbook"], "known": False,
                   "alertname": ".*", "_pattern": re.compile(".*", re.DOTALL)})
    return routes


def route_for(routes, alert):
    """The first route whose alertname pattern matches the alert, with the environment taken from its labels;
    ``known`` says whether a route named the alert or it fell through to the ``unknown`` route."""
    labels = alert.get("labels") or {}
    name = labels.get("alertname", "")
    for route in routes:
        if route["_pattern"].fullmatch(name):
            return {"playbook": route["playbook"], "section": route["section"], "known": route["known"],
                    "alertname": name,
                    "namespace": labels.get("namespace") or labels.get("exported_namespace") or "",
                    "environment": labels.get("environment") or _environment(labels),
                    "status": alert.get("status", "firing")}
    return None


def _environment(labels):
    namespace = labels.get("namespace") or labels.get("exported_namespace") or ""
    for env in ("production", "stage"):
        if namespace.endswith(env):
            return env
    return ""


def make_app(queue, routes, endpoint, token=None):
    async def health(_request):
        return web.json_response({"status": "ok"})

    async def receive(request):
        if token and request.headers.get("Authorization") != "Bearer %s" % token:
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
            return web.json_response({"error": "an Alertmanager payload has a list of alerts"}, status=400)
        meta = {"endpoint": endpoint, "receiver": payload.get("receiver"), "status": payload.get("status"),
                "groupLabels": payload.get("groupLabels"), "commonLabels": payload.get("commonLabels"),
                "externalURL": payload.get("externalURL")}
        queued = 0
        for alert in payload["alerts"]:
            await queue.put({"alert": alert, "route": route_for(routes, alert), "meta": meta})
            queued += 1
        return web.json_response({"queued": queued}, status=202)

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_post("/%s" % endpoint.strip("/"), receive)
    return app


async def main(queue, args):
    routes = load_routes(args.get("routes") or DEFAULT_ROUTES)
    app = make_app(queue, routes, args.get("endpoint", "alerts"), args.get("token"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, args.get("host", "127.0.0.1"), int(args.get("port", 5050)))
    await site.start()
    LOG.info("alertmanager_webhook listening on %s:%s", args.get("host", "127.0.0.1"), args.get("port", 5050))
    try:
        await asyncio.Future()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    class _PrintQueue(object):
        async def put(self, event):
            print(json.dumps(event, indent=2))

    asyncio.run(main(_PrintQueue(), {"port": 5050}))
