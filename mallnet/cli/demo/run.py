"""``mallnet demo``: the whole network on embedded defaults, in one terminal.

Migrates the hub and three shop nodes, starts hub, nodes, a Celery worker and beat as
separate processes, waits until every one answers (the worker proves itself by a
beat-scheduled heartbeat the hub can see), prints the URLs and runs until Ctrl-C, then
stops every process it started and exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from hub.services import (
    registry,
)
from mallnet.cli.demo.hub_seed import (
    DEMO_SHOPS,
    cafe_welcomes_readers,
    mall_events,
    network_value_rules,
    shop_managers,
)
from mallnet.cli.demo.messaging_seed import yalda_send
from mallnet.cli.demo.node_seed import DEMO_SHOPPER, seed_demo_club
from mallnet.cli.demo.offer_seed import seed_offers
from mallnet.cli.demo.story import close_first_day, spend_at_cafe
from mallnet.cli.demo.supervisor import Supervisor
from mallnet.config import Settings
from mallnet.db import create_engine, engine_scope, session_factory
from mallnet.devtokens import issue
from mallnet.migrations import upgrade
from mallnet.scopes import Scope
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

READY_TIMEOUT_S = 90.0


class Stop(Exception):
    """Ctrl-C or SIGTERM arrived."""


def _env(settings: Settings, base_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env["MALLNET_DATA_DIR"] = str(settings.data_dir)
    # The demo runs on its embedded development default; its processes are told so, as
    # 'mallnet hub', 'node', 'worker' and 'beat' refuse to guess their environment.
    env["MALLNET_ENVIRONMENT"] = settings.environment
    env["MALLNET_HUB_PORT"] = str(base_port)
    env["MALLNET_HUB_URL"] = f"http://{settings.host}:{base_port}"
    env["MALLNET_SHOPS"] = ",".join(shop.slug for shop in DEMO_SHOPS)
    env["MALLNET_RELAY_INTERVAL_S"] = env.get("MALLNET_RELAY_INTERVAL_S", "3")
    # Today's birthdays within the demo's first minute, not its first hour.
    env["MALLNET_BIRTHDAY_INTERVAL_S"] = env.get("MALLNET_BIRTHDAY_INTERVAL_S", "60")
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def _register_network(settings: Settings, base_port: int, with_console: bool) -> list[str]:
    """The mall registers the demo's shops at the hub (and makes a console client): the
    credentials of what was new, to keep, as the hub shows secrets only once. Each new
    shop's node is connected to the hub with its credentials."""
    async with (
        engine_scope(settings.hub_db_url) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        lines, connections = await _register_shops(session, settings, base_port)
        if with_console:
            lines += await _mall_clients(session, settings, base_port)
            lines.append(await cafe_welcomes_readers(session))
            await network_value_rules(session)
            lines += await mall_events(session)
            lines += await shop_managers(session)
    await _connect_nodes(settings, connections)
    return lines


async def _register_shops(
    session: AsyncSession, settings: Settings, base_port: int
) -> tuple[list[str], dict[str, registry.IssuedCredentials]]:
    """The demo shops the hub does not know yet, each with its node's URL: their
    credentials, printed and to connect their nodes with."""
    lines: list[str] = []
    connections: dict[str, registry.IssuedCredentials] = {}
    registered = {shop.slug for shop in await registry.list_shops(session)}
    for offset, shop in enumerate(DEMO_SHOPS, start=1):
        if shop.slug in registered:
            continue
        node_url = f"http://{settings.host}:{base_port + offset}"
        data = registry.ShopInput(
            shop.slug, shop.name_fa, shop.name_en, shop.category, shop.floor, shop.unit, node_url
        )
        _shop, node = await registry.register_shop(session, data)
        lines.append(f"{shop.slug} node client: {node.client_id} {node.client_secret}")
        connections[shop.slug] = node
    return lines, connections


async def _mall_clients(session: AsyncSession, settings: Settings, base_port: int) -> list[str]:
    """The mall console's client and the shopper app's (public, PKCE)."""
    mall_scopes = [Scope.MALL_ADMIN, Scope.MALL_REPORTS, Scope.MALL_CAMPAIGNS]
    console = await registry.create_client(
        session,
        kind="console",
        name="demo mall console",
        scopes=[*mall_scopes, Scope.MALL_SETTLEMENT],
    )
    hub_url = f"http://{settings.host}:{base_port}"
    app = await registry.create_app_client(
        session,
        kind="shopper_app",
        name="demo shopper app",
        scopes=[Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT],
        redirect_uris=[f"{hub_url}/app/callback"],
        public=True,
    )
    return [
        f"mall console client: {console.client_id} {console.client_secret}",
        f"shopper app client (public, PKCE): {app.client_id}",
    ]


async def _connect_nodes(
    settings: Settings, connections: dict[str, registry.IssuedCredentials]
) -> None:
    """Each newly registered shop's node, connected to the hub with its credentials."""
    for slug, credentials in connections.items():
        node_engine = create_engine(settings.node_db_url(slug), pooled=False)
        try:
            runtime = await NodeRuntime.start(slug, node_engine, settings)
            await connect(runtime, credentials.client_id, credentials.client_secret)
        finally:
            await node_engine.dispose()


async def _migrate(settings: Settings) -> None:
    await upgrade("hub", settings.hub_db_url)
    for shop in DEMO_SHOPS:
        await prepare_node(settings, shop.slug)


async def _seed(settings: Settings) -> tuple[dict[str, int], list[str]]:
    """Each club's story (after the network's rules exist: purchases issue by them), and
    its offers; the lines saying which offers started."""
    seeded, told = {}, []
    for shop in DEMO_SHOPS:
        engine = create_engine(settings.node_db_url(shop.slug), pooled=False)
        try:
            runtime = await NodeRuntime.start(shop.slug, engine, settings)
            seeded[shop.slug] = await seed_demo_club(runtime, shop.slug)
            told += await seed_offers(runtime, shop.slug)
            if shop.slug == "kafsh-arya":
                told.append(await yalda_send(runtime))
        finally:
            await engine.dispose()
    return seeded, told


def _write_tokens(settings: Settings, path: Path) -> None:
    """Development tokens for the demo's staff, so GraphiQL can be tried at once."""
    lines = []
    for shop in DEMO_SHOPS:
        for role, scopes in (("manager", ["shop:manage"]), ("pos", ["shop:operate"])):
            token = issue(settings, audience=shop.slug, scopes=scopes, subject=f"demo:{role}")
            lines.append(f"{shop.slug} {role}: {token}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _wait_ready(sup: Supervisor, urls: dict[str, str], console: Console) -> None:
    started = time.monotonic()
    deadline = started + READY_TIMEOUT_S
    pending = dict(urls)
    worker_seen = False
    with httpx.Client(timeout=2.0) as client:
        while pending or not worker_seen:
            if dead := sup.dead():
                raise RuntimeError(
                    "\n".join(f"{c.name} exited early:\n{c.log_tail()}" for c in dead)
                )
            if time.monotonic() > deadline:
                waiting = [*pending, *([] if worker_seen else ["worker heartbeat"])]
                raise RuntimeError(f"not ready after {READY_TIMEOUT_S:.0f}s: {waiting}")
            for name, url in list(pending.items()):
                try:
                    if client.get(f"{url}/healthz").status_code == 200:
                        console.print(f"  [green]✓[/green] {name} answers at {url}")
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if "hub" not in pending and not worker_seen:
                worker = client.get(f"{urls['hub']}/healthz").json().get("worker")
                # Only a beat from this run counts, not one left by an earlier demo.
                if worker is not None and worker["last_beat_s"] <= time.monotonic() - started:
                    worker_seen = True
                    console.print("  [green]✓[/green] worker + beat: heartbeat seen")
            time.sleep(0.3)


def _demo_sign_ins(settings: Settings) -> dict[str, str]:
    """The demo's staff sign-ins ("<who> sign-in: <username> <password>" lines of
    demo-clients.txt) as "username / password" by who: 'mall console', '<shop> manager'."""
    found = {}
    for line in (settings.data_dir / "demo-clients.txt").read_text(encoding="utf-8").splitlines():
        name, _, credentials = line.partition(" sign-in: ")
        if credentials and len(parts := credentials.split()) == 2:
            found[name] = f"{parts[0]} / {parts[1]}"
    return found


def _console_client(settings: Settings) -> tuple[str, str] | None:
    for line in (settings.data_dir / "demo-clients.txt").read_text(encoding="utf-8").splitlines():
        name, _, credentials = line.partition(": ")
        if name == "mall console client":
            client_id, secret = credentials.split()
            return client_id, secret
    return None


def _tell_network_story(urls: dict[str, str], settings: Settings, console: Console) -> None:
    """Spend network value at the café through the till's API, in the background (it
    waits for the relay to carry the seeded purchases to the hub); then mall finance
    closes the first settlement period and the shops' statements are there."""
    token = issue(settings, audience="cafe-sepid", scopes=["shop:operate"], subject="demo:pos")

    def tell() -> None:
        try:
            outbox = settings.sms_outbox or settings.data_dir / "sms-outbox.jsonl"
            console.print(f"  [green]✓[/green] {spend_at_cafe(urls['cafe-sepid'], token, outbox)}")
            mall = _console_client(settings)
            if mall is not None:
                nodes = {slug: url for slug, url in urls.items() if slug != "hub"}
                console.print(f"  [green]✓[/green] {close_first_day(urls['hub'], mall, nodes)}")
        except (httpx.HTTPError, RuntimeError) as exc:
            console.print(f"  [yellow]network value story failed:[/yellow] {exc}")

    threading.Thread(target=tell, name="network-story", daemon=True).start()


def _print_urls(urls: dict[str, str], settings: Settings, console: Console) -> None:
    table = Table(title="mallnet demo network", show_lines=False)
    table.add_column("process")
    table.add_column("GraphQL")
    table.add_column("health")
    for name, url in urls.items():
        table.add_row(name, f"{url}/graphql", f"{url}/healthz")
    console.print(table)
    # The web faces as plain lines: a table cut to the terminal's width would cut them.
    outbox = settings.sms_outbox or settings.data_dir / "sms-outbox.jsonl"
    sign_ins = _demo_sign_ins(settings)
    console.print(
        f"shopper app: {urls['hub']}/app/  (sign in as {DEMO_SHOPPER}, a member of three "
        f"shops' clubs, or any mobile number; the texted code is in {outbox})"
    )
    console.print(
        f"mall console: {urls['hub']}/console/  (sign in as {sign_ins.get('mall console', '?')}"
        f" for shops, users and value; {sign_ins.get('mall marketing', '?')} for campaigns and"
        f" lotteries; {sign_ins.get('mall finance', '?')} for settlement)"
    )
    for name, url in urls.items():
        if name != "hub":
            console.print(
                f"{name} till and dashboard: {url}/dashboard/  "
                f"(sign in as {sign_ins.get(f'{name} manager', '?')})"
            )
    console.print(f"data and logs: {settings.data_dir}  (logs in {settings.data_dir / 'logs'})")
    console.print(f"celery broker: {settings.celery_broker_url}")
    console.print(
        f"staff tokens for GraphiQL (header 'Authorization: Bearer …'): "
        f"{settings.data_dir / 'demo-tokens.txt'}"
    )
    console.print(
        f"OAuth clients (client_credentials at {urls['hub']}/oauth/token): "
        f"{settings.data_dir / 'demo-clients.txt'}"
    )


def run_demo(settings: Settings, base_port: int) -> int:
    console = Console()
    settings.ensure_data_dir()
    console.print(f"[bold]mallnet demo[/bold] — data in {settings.data_dir}")
    asyncio.run(_migrate(settings))
    clients = settings.data_dir / "demo-clients.txt"
    if new := asyncio.run(_register_network(settings, base_port, not clients.exists())):
        with clients.open("a", encoding="utf-8") as out:
            out.write("\n".join(new) + "\n")
        clients.chmod(0o600)
    seeded, offer_lines = asyncio.run(_seed(settings))
    console.print(
        "  [green]✓[/green] migrated hub and nodes; demo clubs ready: "
        + ", ".join(f"{slug} ({n} purchases)" for slug, n in seeded.items())
    )
    for line in offer_lines:
        console.print(f"  [green]✓[/green] {line}")
    _write_tokens(settings, settings.data_dir / "demo-tokens.txt")

    stop_requested: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop_requested.append(signum)
        raise Stop

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    logs = settings.data_dir / "logs"
    me = [sys.executable, "-m", "mallnet"]
    sup = Supervisor(_env(settings, base_port))
    urls = {"hub": f"http://{settings.host}:{base_port}"}
    exit_code = 0
    try:
        sup.start("hub", [*me, "hub", "--port", str(base_port)], logs / "hub.log")
        for offset, shop in enumerate(DEMO_SHOPS, start=1):
            port = base_port + offset
            urls[shop.slug] = f"http://{settings.host}:{port}"
            sup.start(
                shop.slug,
                [*me, "node", "--shop", shop.slug, "--port", str(port)],
                logs / f"node-{shop.slug}.log",
            )
        sup.start("worker", [*me, "worker"], logs / "worker.log")
        sup.start("beat", [*me, "beat"], logs / "beat.log")
        _wait_ready(sup, urls, console)
        _print_urls(urls, settings, console)
        _tell_network_story(urls, settings, console)
        console.print("[bold green]ready[/bold green] — press Ctrl-C to stop everything")
        while True:
            if dead := sup.dead():
                for child in dead:
                    console.print(
                        f"[red]{child.name} stopped unexpectedly:[/red]\n{child.log_tail()}"
                    )
                exit_code = 1
                break
            time.sleep(0.5)
    except Stop:
        pass
    except RuntimeError as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        exit_code = 1
    finally:
        # A second Ctrl-C during shutdown must not abandon the children.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        console.print("stopping every process…")
        sup.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("stopped" + ("" if exit_code == 0 else f" (exit {exit_code})"))
    return exit_code
