import reflex as rx

from vrm_dashboard.config import environment, trusted_proxy_hops
from vrm_dashboard.web.same_origin import origin_of

# The settings' own sources (environment variables over `.env`), as vrm_dashboard/config.py reads them.
_env = environment()
_port = int(_env.get("PORT") or "3000")


def _own_origins() -> list[str]:
    """Where our pages are served from: the configured public address and this machine's own,
    each as a browser writes it in `Origin` (VRM_PUBLIC_URL may carry a path, a trailing slash,
    capitals or a default port, none of which an origin has). Reflex allows every origin by
    default, for its API (with credentials) and for the websocket that carries every event;
    another site's page has no business opening either."""
    addresses = [_env.get("VRM_PUBLIC_URL", ""), *(f"http://{host}:{_port}" for host in ("localhost", "127.0.0.1"))]
    return list(dict.fromkeys(origin for origin in map(origin_of, addresses) if origin))


config = rx.Config(
    app_name="vrm_dashboard",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_port,
    backend_port=_port,
    cors_allowed_origins=_own_origins(),
    # The client address the sign-in throttles count (router.session.client_ip) is the one the
    # nearest trusted proxy saw, not whatever a client writes in X-Forwarded-For.
    trusted_proxy_hops=trusted_proxy_hops(_env),
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
