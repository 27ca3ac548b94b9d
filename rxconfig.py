import os

import reflex as rx

config = rx.Config(
    app_name="vrm_dashboard",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=["reflex_base.plugins.sitemap.SitemapPlugin"],
    frontend_port=int(os.environ.get("PORT", "3000")),
    backend_port=int(os.environ.get("PORT", "3000")),
)
