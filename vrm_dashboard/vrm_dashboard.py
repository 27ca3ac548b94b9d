"""The Reflex app: its pages come from the route table (ui/routes.py), its API from api/."""
from functools import partial

import reflex as rx

from vrm_dashboard.api.app import build_api
from vrm_dashboard.api.dependencies import live_credential
from vrm_dashboard.config import settings
from vrm_dashboard.ui.routes import add_pages
from vrm_dashboard.web.security_headers import security_headers
from vrm_dashboard.web.upload_limits import upload_limits

settings()  # a bad setting stops start-up here, naming the setting

# Applied in order, each wrapping all before it: the API is mounted first; then the HTTP edge
# (web/), whose last step is the outermost and so sees every response, /_upload's included.
app = rx.App(api_transformer=[
    build_api(),
    # A body over its route's limit is refused before anything stores it, and a large one is
    # taken only from a caller with a live session or API key.
    partial(upload_limits, known_caller=live_credential),
    security_headers,
])
add_pages(app)
