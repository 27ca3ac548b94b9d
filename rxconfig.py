import os

import reflex as rx

_port = int(os.environ.get("PORT", "3000"))

config = rx.Config(
    app_name="vrm_dashboard",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_port,
    backend_port=_port,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
