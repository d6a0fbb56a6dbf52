"""`mgsleep serve`: the web app on the embedded default, optionally with a demo account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mgsleep.cli.common import DbOption

if TYPE_CHECKING:
    from mgsleep.web.settings import Settings


def serve_settings(host: str, port: int, db: str | None) -> Settings:
    """The same settings as any other way of starting the app (MGSLEEP_* variables); only
    what the environment leaves unset comes from the options."""
    from mgsleep.web.settings import Settings

    settings = Settings()
    updates: dict[str, object] = {}
    if "base_url" not in settings.model_fields_set:
        updates["base_url"] = f"http://{host}:{port}"
    if db:
        updates["database_url"] = db
    return Settings.model_validate({**settings.model_dump(exclude_unset=True), **updates})


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo account with six weeks of data.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Start the web app (and its JSON API under /api/v1) and print its address."""
    import uvicorn

    from mgsleep.demo import DEMO_PASSWORD, seed_demo
    from mgsleep.security import hash_password
    from mgsleep.store.db import open_store
    from mgsleep.web.app import create_app

    settings = serve_settings(host, port, db)
    base_url = settings.base_url
    if demo:
        engine = open_store(settings.resolved_database_url())
        username = seed_demo(engine, hash_password(DEMO_PASSWORD))
        engine.dispose()
        typer.echo(f"demo account: {username} / {DEMO_PASSWORD}")
    typer.echo(f"mgsleep is running at {base_url}/  (Ctrl+C to stop)")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        # The app reads X-Forwarded-For itself, from MGSLEEP_TRUSTED_PROXIES only.
        proxy_headers=False,
    )
