"""Builds the app: pages, HTTP routes and background tasks. No logic here."""

import reflex as rx
from starlette.applications import Starlette
from starlette.routing import Route

from chainels_app import routes
from chainels_app.api import auth as auth_api
from chainels_app.api import media as media_api
from chainels_app.api import sendgrid_webhook as sendgrid_api
from chainels_app.api import unsubscribe as unsubscribe_api
from chainels_app.pages.admin import (
    companies_page,
    groups_page,
    invites_page,
    members_page,
)
from chainels_app.pages.feed import feed_page
from chainels_app.pages.invite import invite_page
from chainels_app.pages.login import login_page
from chainels_app.pages.password import forgot_password_page, reset_password_page
from chainels_app.pages.post import post_page
from chainels_app.pages.settings import settings_page
from chainels_app.state.admin import (
    CompaniesState,
    GroupsState,
    InvitesState,
    MembersState,
)
from chainels_app.state.auth import (
    ForgotPasswordState,
    InviteState,
    LoginState,
    ResetPasswordState,
)
from chainels_app.state.feed import FeedState
from chainels_app.state.middleware import ForgetOtherSessions
from chainels_app.state.post import PostState
from chainels_app.state.preferences import PreferencesState
from chainels_app.state.session import SessionState
from chainels_app.tasks import digest_timer, housekeeping, mail_worker

http_routes = Starlette(
    routes=[
        Route(routes.AUTH_TICKET, auth_api.redeem_ticket, methods=["GET"]),
        Route(routes.AUTH_LOGOUT, auth_api.logout, methods=["POST"]),
        Route(routes.HEALTH, auth_api.health, methods=["GET"]),
        Route(routes.MEDIA, media_api.serve_media, methods=["GET"]),
        Route(routes.UNSUBSCRIBE, unsubscribe_api.unsubscribe_page, methods=["GET"]),
        Route(routes.UNSUBSCRIBE, unsubscribe_api.unsubscribe, methods=["POST"]),
        Route(routes.SENDGRID_EVENTS, sendgrid_api.receive_events, methods=["POST"]),
    ]
)

app = rx.App(
    api_transformer=http_routes,
    head_components=[rx.el.meta(name="theme-color", content="#3e63dd")],
    stylesheets=["/styles.css"],
)
app.register_lifespan_task(housekeeping)
app.register_lifespan_task(mail_worker)
app.register_lifespan_task(digest_timer)
app.add_middleware(ForgetOtherSessions())

_PUBLIC = [SessionState.load_public]
app.add_page(
    login_page,
    route=routes.LOGIN,
    title="Inloggen",
    on_load=[*_PUBLIC, LoginState.load],
)
app.add_page(
    forgot_password_page,
    route=routes.FORGOT_PASSWORD,
    on_load=[*_PUBLIC, ForgotPasswordState.load],
)
app.add_page(
    reset_password_page,
    route=routes.RESET_PASSWORD,
    on_load=[*_PUBLIC, ResetPasswordState.load],
)
app.add_page(invite_page, route=routes.INVITE, on_load=[*_PUBLIC, InviteState.load])

_FEED = [SessionState.guard, FeedState.load]
app.add_page(feed_page, route=routes.HOME, title="Tijdlijn", on_load=_FEED)
app.add_page(feed_page, route=routes.FEED, title="Tijdlijn", on_load=_FEED)
app.add_page(
    post_page, route=routes.POST_DETAIL, on_load=[SessionState.guard, PostState.load]
)

app.add_page(
    settings_page,
    route=routes.SETTINGS,
    on_load=[SessionState.guard, PreferencesState.load],
)

_ADMIN = SessionState.guard_admin
app.add_page(
    members_page, route=routes.ADMIN_MEMBERS, on_load=[_ADMIN, MembersState.load]
)
app.add_page(
    invites_page, route=routes.ADMIN_INVITES, on_load=[_ADMIN, InvitesState.load]
)
app.add_page(
    companies_page, route=routes.ADMIN_COMPANIES, on_load=[_ADMIN, CompaniesState.load]
)
app.add_page(groups_page, route=routes.ADMIN_GROUPS, on_load=[_ADMIN, GroupsState.load])
