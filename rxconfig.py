import os

import reflex as rx

_port = int(os.environ.get("PORT", "3000"))


def _own_origins() -> list[str]:
    """Where our pages are served from: the configured public address and this machine's own.
    Reflex allows every origin by default, for its API (with credentials) and for the websocket
    that carries every event; another site's page has no business opening either."""
    public = os.environ.get("VRM_PUBLIC_URL", "").rstrip("/")
    local = [f"http://{host}:{_port}" for host in ("localhost", "127.0.0.1")]
    return [public, *local] if public else local


config = rx.Config(
    app_name="vrm_dashboard",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_port,
    backend_port=_port,
    cors_allowed_origins=_own_origins(),
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
