"""The Reflex app: its pages come from the route table (ui/routes.py), its API from api/."""
import reflex as rx

from vrm_dashboard.api.app import build_api
from vrm_dashboard.config import settings
from vrm_dashboard.ui.routes import add_pages

settings()  # a bad setting stops start-up here, naming the setting

app = rx.App(api_transformer=build_api())
add_pages(app)
