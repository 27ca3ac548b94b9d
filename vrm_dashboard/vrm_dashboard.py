"""The Reflex app: its pages come from the route table (ui/routes.py), its API from api/."""
import reflex as rx

from vrm_dashboard.api.app import build_api
from vrm_dashboard.config import settings
from vrm_dashboard.ui.routes import add_pages
from vrm_dashboard.web.security_headers import security_headers
from vrm_dashboard.web.upload_limits import upload_limits

settings()  # a bad setting stops start-up here, naming the setting

# Applied in order, each wrapping all before it: the API is mounted first; then the HTTP edge
# (web/), whose last step is the outermost and so sees every response, /_upload's included.
app = rx.App(api_transformer=[
    build_api(),
    upload_limits,  # a body over its route's limit is refused before anything stores it
    security_headers,
])
add_pages(app)
