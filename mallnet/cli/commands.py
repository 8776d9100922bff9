"""The ``mallnet`` command: run, migrate and inspect the network."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from hub.services.registry import IssuedCredentials
from mallnet.config import (
    InsecureSettings,
    Role,
    Settings,
    check_shop_slug,
    get_settings,
    redact_url,
)
from mallnet.keywrap import Keyring
from mallnet.scopes import Scope

cli = typer.Typer(
    name="mallnet",
    help="A mall-wide federated loyalty network: hub, shop nodes, workers.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
T = TypeVar("T")

ShopOption = Annotated[str, typer.Option("--shop", help="The shop's slug, e.g. ketab-sara.")]


def _shop(slug: str) -> str:
    try:
        return check_shop_slug(slug)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _serving_settings(role: Role) -> Settings:
    """The settings of a long-running process (hub, node, worker, beat), refused unless the
    environment is said explicitly (unset, it would quietly be development: development
    tokens and GraphiQL on) and, in production, no secret is missing, default or short."""
    settings = get_settings()
    if "environment" not in settings.model_fields_set:
        typer.echo(
            f"refusing to start the {role}: MALLNET_ENVIRONMENT is not set. Set it to "
            "'production' (with MALLNET_NETWORK_KEY and the other secrets) or, on a "
            "development machine, to 'development'. 'mallnet demo' sets it for you.",
            err=True,
        )
        raise typer.Exit(2)
    try:
        settings.require_safe_secrets(role)
    except InsecureSettings as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return settings


@cli.command()
def migrate(
    shops: Annotated[
        list[str] | None, typer.Option("--shop", help="Also migrate this node (repeatable).")
    ] = None,
    hub: Annotated[bool, typer.Option("--hub/--no-hub", help="Migrate the hub database.")] = True,
) -> None:
    """Create databases if needed and apply every migration (hub, then each node)."""
    from mallnet.migrations import upgrade
    from shop_node.services.bootstrap import prepare_node

    settings = get_settings()
    settings.ensure_data_dir()

    async def run() -> None:
        if hub:
            revision = await upgrade("hub", settings.hub_db_url)
            console.print(f"hub: at {revision}")
        for slug in shops or []:
            revision = await prepare_node(settings, _shop(slug))
            console.print(f"node {slug}: at {revision}")

    asyncio.run(run())


@cli.command("hub")
def run_hub(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MALLNET_HUB_PORT).")] = None,
) -> None:
    """Serve the hub (GraphQL at /graphql, health at /healthz)."""
    from hub.app import create_app

    settings = _serving_settings("hub")
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.hub_port,
        log_level="info",
        server_header=False,
        # The hub reads forwarded addresses itself, only from MALLNET_TRUSTED_PROXIES;
        # uvicorn's own handling would believe any X-Forwarded-For from 127.0.0.1.
        proxy_headers=False,
    )


@cli.command("node")
def run_node(
    shop: ShopOption,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8100,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[int, typer.Option(help="Server processes (use the cores).")] = 1,
) -> None:
    """Serve one shop's node (GraphQL at /graphql, health at /healthz)."""
    settings = _serving_settings("node")
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port,
        "log_level": log_level,
        "access_log": log_level in ("debug", "info"),
        "server_header": False,
        "proxy_headers": False,  # as for the hub: MALLNET_TRUSTED_PROXIES decides
    }
    if workers > 1:
        os.environ["MALLNET_SHOP"] = _shop(shop)
        uvicorn.run("shop_node.app:app_from_env", factory=True, workers=workers, **options)
        return
    from shop_node.app import create_app

    uvicorn.run(create_app(_shop(shop), settings), **options)


@cli.command("node-connect")
def node_connect(
    shop: ShopOption,
    client_id: Annotated[str, typer.Option(help="From 'mallnet shops register'.")],
    client_secret: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Give a node its client credentials at the hub (kept in the node's database)."""
    from mallnet.db import engine_scope
    from shop_node.services.relay import connect
    from shop_node.services.runtime import NodeRuntime

    settings = get_settings()

    async def run() -> None:
        async with engine_scope(settings.node_db_url(_shop(shop))) as engine:
            runtime = await NodeRuntime.start(shop, engine, settings)
            await connect(runtime, client_id, client_secret)

    asyncio.run(run())
    print(f"{shop} will deliver its events to {settings.public_hub_url}")


@cli.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Run a Celery worker (embedded SQLite broker unless MALLNET_BROKER_URL is set)."""
    from mallnet.celery_app import app

    settings = _serving_settings("worker")
    app.worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            f"--queues={settings.celery_queue}",
            "--hostname=mallnet@%h",
        ]
    )


@cli.command()
def beat() -> None:
    """Run Celery beat, the scheduler of periodic tasks (heartbeat, expiries, closes)."""
    from mallnet.celery_app import app

    settings = _serving_settings("worker")
    schedule = settings.ensure_data_dir() / "celerybeat-schedule"
    app.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


@cli.command("export-schema")
def export_schema(
    out_dir: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("graphql"),
    check: Annotated[bool, typer.Option(help="Fail if the files differ; write nothing.")] = False,
) -> None:
    """Write graphql/hub.graphql and graphql/node.graphql from the code."""
    from mallnet.cli.sdl import export_all

    stale = export_all(out_dir, write=not check)
    if check and stale:
        console.print(f"[red]out of date:[/red] {', '.join(map(str, stale))}")
        raise typer.Exit(1)
    for path in stale:
        console.print(f"wrote {path}")


@cli.command()
def demo(
    base_port: Annotated[
        int, typer.Option(help="Hub on this port, the four nodes on the next four.")
    ] = 8000,
) -> None:
    """Migrate and run the whole network: hub, four shop nodes, worker and beat."""
    from mallnet.cli.demo.run import run_demo

    raise typer.Exit(run_demo(get_settings(), base_port))


@cli.command("dev-token")
def dev_token(
    shop: ShopOption,
    scopes: Annotated[list[str], typer.Option("--scope", help="Scope to grant (repeatable).")],
    subject: Annotated[str, typer.Option(help="Who the token speaks for.")] = "staff:dev",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 8 * 3600,
) -> None:
    """Print a development access token for a node (development environment only)."""
    from mallnet.devtokens import issue

    known = {s.value for s in Scope}
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise typer.BadParameter(f"unknown scopes {unknown}; known: {sorted(known)}")
    print(issue(get_settings(), audience=_shop(shop), scopes=scopes, subject=subject, ttl_s=ttl))


shops_cli = typer.Typer(help="The hub's shops registry (mall management).")
clients_cli = typer.Typer(help="The hub's OAuth clients.")
keys_cli = typer.Typer(help="The hub's token-signing keys.")
cli.add_typer(shops_cli, name="shops")
cli.add_typer(clients_cli, name="clients")
cli.add_typer(keys_cli, name="keys")


def _on_hub(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the hub database."""
    from mallnet.db import engine_scope, session_factory

    async def run() -> T:
        async with (
            engine_scope(get_settings().hub_db_url) as engine,
            session_factory(engine)() as session,
            session.begin(),
        ):
            return await work(session)

    return asyncio.run(run())


def _scopes(names: list[str]) -> list[Scope]:
    try:
        return [Scope(name) for name in names]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scope") from None


def _print_credentials(credentials: IssuedCredentials) -> None:
    print(f"client_id={credentials.client_id}")
    if credentials.client_secret:  # public clients have none
        print(f"client_secret={credentials.client_secret}")


@shops_cli.command("register")
def register_shop(
    slug: Annotated[str, typer.Option(help="e.g. ketab-sara")],
    name_fa: Annotated[str, typer.Option(help="Persian name.")],
    name_en: Annotated[str, typer.Option(help="English name.")],
    category: Annotated[str, typer.Option(help="fashion, books, cafe, ...")],
    floor: Annotated[str | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option()] = None,
    node_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Register a shop and print its node's client credentials (shown once)."""
    from hub.services import registry

    data = registry.ShopInput(slug, name_fa, name_en, category, floor, unit, node_url)
    try:
        _shop, credentials = _on_hub(lambda s: registry.register_shop(s, data))
    except registry.RegistryError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.field) from None
    _print_credentials(credentials)


@clients_cli.command("create")
def create_client(
    name: Annotated[str, typer.Option(help="Who uses it, e.g. 'mall console'.")],
    scopes: Annotated[list[str], typer.Option("--scope", help="Scope to allow (repeatable).")],
    kind: Annotated[str, typer.Option(help="console or service.")] = "console",
) -> None:
    """Create a confidential client_credentials client; print its secret (shown once)."""
    from hub.services import registry

    allowed = _scopes(scopes)
    if kind not in ("console", "service"):
        raise typer.BadParameter("console or service", param_hint="--kind")
    _print_credentials(
        _on_hub(lambda s: registry.create_client(s, kind=kind, name=name, scopes=allowed))
    )


@clients_cli.command("create-app")
def create_app_client(
    name: Annotated[str, typer.Option(help="e.g. 'shopper app'.")],
    scopes: Annotated[list[str], typer.Option("--scope", help="Scope to allow (repeatable).")],
    redirect_uris: Annotated[list[str], typer.Option("--redirect-uri", help="Repeatable.")],
    kind: Annotated[str, typer.Option(help="shopper_app or console.")] = "console",
    public: Annotated[bool, typer.Option(help="No secret (apps on phones, SPAs).")] = False,
) -> None:
    """A client people sign in through (authorization code + PKCE, refresh tokens)."""
    from hub.services import registry

    allowed = _scopes(scopes)
    try:
        credentials = _on_hub(
            lambda s: registry.create_app_client(
                s, kind=kind, name=name, scopes=allowed, redirect_uris=redirect_uris, public=public
            )
        )
    except registry.RegistryError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.field) from None
    _print_credentials(credentials)


users_cli = typer.Typer(help="People who sign in at the hub with a password.")
cli.add_typer(users_cli, name="users")


@users_cli.command("create")
def create_user(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="manager, operator, auditor, mall_admin, ...")],
    shop: Annotated[str | None, typer.Option(help="The staff member's shop.")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a staff or mall-management account."""
    from hub.services import people

    try:
        _on_hub(lambda s: people.create_user(s, username, password, role, shop))
    except people.SignInError as exc:
        raise typer.BadParameter(exc.message) from None
    print(f"created {username} ({role}{', ' + shop if shop else ''})")


def _keyring() -> Keyring:
    from mallnet.keywrap import KeyEncryptionError, keyring_for

    try:
        return keyring_for(get_settings())
    except (KeyEncryptionError, RuntimeError) as exc:
        raise typer.BadParameter(str(exc)) from None


@keys_cli.command("rotate")
def rotate_keys() -> None:
    """Sign new tokens with a fresh key; old keys stay published until their tokens expire."""
    from hub.services import keys

    keyring = _keyring()
    print(f"signing with {_on_hub(lambda session: keys.rotate(session, keyring))}")


@keys_cli.command("new-kek")
def new_kek() -> None:
    """Print a fresh key-encryption key (URL-safe base64 of 32 random bytes)."""
    from mallnet.keywrap import new_kek as make

    print(make())


@keys_cli.command("rotate-kek")
def rotate_kek() -> None:
    """Re-seal every private signing key under MALLNET_KEY_ENCRYPTION_KEY(_FILE), opening
    those sealed under the old key with MALLNET_PREVIOUS_KEY_ENCRYPTION_KEY(_FILE). Run it
    with both set, then drop the previous key (README, "Security")."""
    from hub.services import keys
    from mallnet.keywrap import KeyEncryptionError

    keyring = _keyring()
    try:
        done = _on_hub(lambda session: keys.rewrap(session, keyring))
    except KeyEncryptionError as exc:
        typer.echo(f"nothing re-sealed: {exc}", err=True)
        raise typer.Exit(1) from None
    print(f"re-sealed {done.resealed} signing keys under key-encryption key {done.kek_id}")
    print(f"{done.current} were already under it")


value_cli = typer.Typer(help="The hub's network value (pooled points, network credit).")
cli.add_typer(value_cli, name="value")


@value_cli.command("verify")
def verify_value(
    shopper: Annotated[
        str | None, typer.Option(help="Only this shopper's pseudonym (64 hex).")
    ] = None,
) -> None:
    """Audit the network-value ledger: every transaction balanced, every lot's cached
    balances equal to its postings, issued = remaining + captured + expired. Prints JSON;
    exits 1 when anything is wrong."""
    from hub.services import value

    async def audit(session: AsyncSession) -> dict[str, object]:
        problems = await value.verify(session, shopper)
        totals = {
            unit: vars(await value.totals(session, unit, shopper)) for unit in ("point", "rial")
        }
        return {"shopper": shopper, "problems": problems, "totals": totals}

    report = _on_hub(audit)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if report["problems"]:
        raise typer.Exit(1)


settlement_cli = typer.Typer(help="Settlement of the shared fund (mall finance).")
cli.add_typer(settlement_cli, name="settlement")


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@settlement_cli.command("close")
def close_settlement(
    period: Annotated[
        int | None, typer.Option(help="A period that has ended (default: cut the open one now).")
    ] = None,
) -> None:
    """Close a settlement period in one transaction and print what it produced (JSON)."""
    from hub.services import settlement

    async def work(session: AsyncSession) -> dict[str, object]:
        period_id = period if period is not None else (await settlement.cut(session, "cli")).id
        done = await settlement.close(session, period_id, "cli")
        row = done.period
        result = dict(row.result or {})
        pairs = result.pop("pairs", [])  # one per pair of shops: the count is enough here
        head = {"period": row.id, "replayed": done.replayed, "digest": row.digest}
        return head | result | {"pairs": len(pairs)}

    _print_json(_on_hub(work))


@settlement_cli.command("verify")
def verify_settlement(period: Annotated[int, typer.Argument(help="A closed period's id.")]) -> None:
    """Recompute a closed period from its captures and from its journal; print the
    differences (JSON) and exit 1 when there is any."""
    from hub.services import settlement

    async def audit(session: AsyncSession) -> dict[str, object]:
        row = await settlement.get_period(session, period)
        problems = await settlement.verify(session, period)
        return {
            "period": period,
            "captures": row.captures,
            "digest": row.digest,
            "differences": problems,
        }

    report = _on_hub(audit)
    _print_json(report)
    if report["differences"]:
        raise typer.Exit(1)


@settlement_cli.command("periods")
def list_periods(first: Annotated[int, typer.Option(help="How many, newest first.")] = 20) -> None:
    from hub.services import settlement
    from settlement.periods import jalali_label

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        return [
            {
                "id": p.id,
                "label": jalali_label(p.starts_at, p.ends_at),
                "status": p.status,
                "captures": p.captures,
                "digest": p.digest,
            }
            for p in await settlement.periods(session, first)
        ]

    _print_json(_on_hub(work))


@settlement_cli.command("statement")
def write_statement(
    period: Annotated[int, typer.Argument(help="A closed period's id.")],
    shop: Annotated[str, typer.Argument(help="The shop's slug.")],
    out: Annotated[
        Path | None, typer.Option(help="Write it here (.csv or .pdf); without it, print the CSV.")
    ] = None,
) -> None:
    """A shop's statement for a closed period, as CSV or PDF."""
    from hub.services import settlement
    from settlement.render import statement_csv, statement_file

    statement = _on_hub(lambda session: settlement.statement(session, period, _shop(shop)))
    if out is None:
        print(statement_csv(statement), end="")
        return
    body, _media, _name = statement_file(statement, out.suffix.lstrip("."))
    out.write_bytes(body)
    print(f"wrote {out} ({len(body):,} bytes, {len(statement.lines)} lines)")


@settlement_cli.command("policy")
def settlement_policy(
    document: Annotated[
        str | None, typer.Option("--set", help="A new policy as JSON (snake_case keys).")
    ] = None,
) -> None:
    """Print the settlement policy in force, or set a new version."""
    from hub.services import settlement_policy as policies

    async def work(session: AsyncSession) -> dict[str, object]:
        if document is not None:
            await policies.set_policy(session, json.loads(document), "cli")
        version, policy = await policies.current(session)
        return {"version": version, "policy": policy.model_dump(mode="json")}

    _print_json(_on_hub(work))


@settlement_cli.command("deposit")
def record_deposit(
    shop: Annotated[str, typer.Argument(help="The shop that paid into the fund.")],
    amount_rial: Annotated[int, typer.Argument(help="Rial received.")],
    reference: Annotated[str, typer.Argument(help="The bank transfer's reference.")],
) -> None:
    """Record a prepayment into the fund (idempotent on the reference)."""
    from hub.services import prepaid

    async def work(session: AsyncSession) -> dict[str, object]:
        await prepaid.deposit(session, _shop(shop), amount_rial, reference, "cli")
        return {"shop": shop, "balance_rial": (await prepaid.balances(session))[shop]}

    _print_json(_on_hub(work))


lottery_cli = typer.Typer(help="Lotteries: re-run a published draw.")
cli.add_typer(lottery_cli, name="lottery")

LOTTERY_RECORD = """query($id: String!) { lottery(lotteryId: $id) {
  id nameFa status commitment listDigest prizes record } }"""
LOTTERY_TICKETS = """query($id: String!, $after: Int!) {
  lotteryTickets(lotteryId: $id, after: $after, first: 10000) { position entrantId tickets } }"""


@lottery_cli.command("verify")
def verify_lottery(
    lottery: Annotated[str, typer.Argument(help="The lottery's id.")],
    hub: Annotated[
        str | None, typer.Option(help="The hub's URL (default: MALLNET_HUB_URL).")
    ] = None,
) -> None:
    """Re-run a drawn lottery from what the hub published (no token needed: anyone can):
    the seed against its commitment, the frozen list against its digest, the winners.
    The list and the winners name entrant ids (a shopper finds hers in the app), never
    pseudonyms. Prints JSON; exits 1 on any difference."""
    import httpx

    from hub.domain import draw

    url = (hub or get_settings().public_hub_url).rstrip("/") + "/graphql"
    with httpx.Client(timeout=30) as client:

        def ask(query: str, **variables: object) -> dict[str, Any]:
            body = client.post(url, json={"query": query, "variables": variables}).json()
            if body.get("errors"):
                raise typer.BadParameter(body["errors"][0]["message"])
            data: dict[str, Any] = body["data"]
            return data

        found = ask(LOTTERY_RECORD, id=lottery)["lottery"]
        if found is None or found["record"] is None:
            _print_json({"lottery": lottery, "differences": ["not drawn (or no such lottery)"]})
            raise typer.Exit(1)
        pairs: list[tuple[str, int]] = []
        while page := ask(LOTTERY_TICKETS, id=lottery, after=len(pairs))["lotteryTickets"]:
            pairs += [(t["entrantId"], int(t["tickets"])) for t in page]
    record = found["record"]
    differences = draw.verify({**record, "tickets": pairs})
    # The record must also be the lottery's own: the commitment published when it opened,
    # the digest published when its list froze, as many winners as it has prizes.
    prizes = sum(int(p["count"]) for p in found["prizes"])
    for name, published, drawn in (
        ("commitment", found["commitment"], record["commitment"]),
        ("list digest", found["listDigest"], record["list_digest"]),
        ("winners wanted", prizes, record["winners_requested"]),
    ):
        if published != drawn:
            differences.append(f"{name}: published {published}, the record says {drawn}")
    _print_json(
        {
            "lottery": lottery,
            "name_fa": found["nameFa"],
            "entrants": len(pairs),
            "commitment": record["commitment"],
            "list_digest": record["list_digest"],
            "public_value": record["public_value"],
            "winners": [w["entrant_id"] for w in record["winners"]],
            "differences": differences,
        }
    )
    if differences:
        raise typer.Exit(1)


bench = typer.Typer(
    help="Benchmarks: JSON results, each beside a bare rate (the services in-process, or bare SQL)."
)
cli.add_typer(bench, name="bench")


@bench.command("purchase")
def bench_purchase(
    count: Annotated[int, typer.Option("--count", "-n", help="Purchases to record.")] = 3000,
    clients: Annotated[int, typer.Option("--clients", "-c", help="Concurrent clients.")] = 32,
    shoppers: Annotated[int, typer.Option(help="Distinct shoppers (phones).")] = 2000,
    server_workers: Annotated[int, typer.Option(help="Node server processes.")] = 1,
    postgres: Annotated[
        str, typer.Option(help="PostgreSQL server (a scratch database is made and dropped).")
    ] = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
) -> None:
    """Purchases/s and latency through a node's GraphQL on PostgreSQL, vs its services."""
    from mallnet.cli.bench.common import main_purchase

    settings = get_settings()
    print(
        main_purchase(
            postgres, count, clients, shoppers, server_workers, settings.data_dir / "bench"
        )
    )


@bench.command("network")
def bench_network(
    count: Annotated[int, typer.Option("--count", "-n", help="Hold + capture pairs.")] = 3000,
    me_count: Annotated[int, typer.Option(help="'me' wallet + history queries.")] = 3000,
    clients: Annotated[int, typer.Option("--clients", "-c", help="Concurrent clients.")] = 32,
    shoppers: Annotated[int, typer.Option(help="Shoppers to load.")] = 100_000,
    entries: Annotated[int, typer.Option(help="Ledger postings to load.")] = 5_000_000,
    server_workers: Annotated[int, typer.Option(help="Hub server processes.")] = 1,
    keep: Annotated[bool, typer.Option(help="Keep the loaded database afterwards.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the loaded data.")] = 7,
    postgres: Annotated[
        str, typer.Option(help="PostgreSQL server (a scratch database is made and dropped).")
    ] = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
) -> None:
    """Hold + capture pairs/s and 'me' latency through the hub's GraphQL, vs its services."""
    from mallnet.cli.bench.network import NetworkParams, main_network

    params = NetworkParams(
        shoppers=shoppers,
        entries=entries,
        count=count,
        me_count=me_count,
        clients=clients,
        server_workers=server_workers,
        keep=keep,
        seed=seed,
    )
    print(main_network(postgres, params, get_settings().data_dir / "bench"))


@bench.command("settlement")
def bench_settlement(
    captures: Annotated[int, typer.Option(help="Capture lines in the period.")] = 1_000_000,
    shops: Annotated[int, typer.Option(help="Shops of the network.")] = 300,
    keep: Annotated[bool, typer.Option(help="Keep the loaded database afterwards.")] = False,
    postgres: Annotated[
        str, typer.Option(help="PostgreSQL server (a scratch database is made and dropped).")
    ] = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
) -> None:
    """Close a period of CAPTURES captures among SHOPS shops: seconds and peak memory
    of the close (its own process), its audit, and the bare SQL doing the same writes."""
    from mallnet.cli.bench.settlement import main_settlement

    print(main_settlement(postgres, shops, captures, keep, get_settings().data_dir / "bench"))


@bench.command("lottery")
def bench_lottery(
    tickets: Annotated[int, typer.Option(help="Tickets in the frozen list.")] = 10_000_000,
    entrants: Annotated[int, typer.Option(help="Shoppers holding them.")] = 10_000_000,
    winners: Annotated[int, typer.Option(help="Winners to draw.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated list.")] = 7,
) -> None:
    """Draw WINNERS from TICKETS tickets held by ENTRANTS shoppers, and verify the draw:
    seconds and peak memory of each step in its own process (JSON)."""
    from mallnet.cli.bench.lottery import main_lottery

    print(main_lottery(entrants, tickets, winners, seed))


@cli.command("config")
def show_config() -> None:
    """Print the effective settings (from MALLNET_* variables and defaults), secrets and
    the passwords in URLs hidden."""
    settings = get_settings()
    for name, value in settings.redacted().items():
        print(f"{name} = {value}")
    node_url = settings.node_database_url or settings.node_db_url("shop")
    for name, url in (
        ("hub database", settings.hub_db_url),
        ("node database", node_url),
        ("celery broker", settings.celery_broker_url),
        ("celery result backend", settings.celery_result_backend),
    ):
        print(f"{name} = {redact_url(url)}")


def main() -> None:
    cli()
