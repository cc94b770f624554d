"""Builds the ASGI application: one function, everything wired from Settings."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Match

from app.assets import endpoints as assets_api
from app.assets import links
from app.assets import pages as assets_pages
from app.auth import endpoints as auth_api
from app.auth import oidc
from app.auth import pages as auth_pages
from app.auth.oidc import make_oauth
from app.auth.service import AuthContext
from app.core import openapi
from app.core.cookies import StaleCookieCleaner
from app.core.db import make_engine, make_sessionmaker
from app.core.deps import Principal, csrf_protect
from app.core.errors import AppError, Forbidden, NotAuthenticated, NotFound, Throttled
from app.core.headers import SecurityHeaders
from app.core.metrics import Metrics, MetricsMiddleware
from app.core.security import Passwords
from app.core.settings import Settings, get_settings
from app.events import endpoints as events_api
from app.events.broker import Broker
from app.invoices import endpoints as invoices_api
from app.invoices import pages as invoices_pages
from app.mail import worker as mail_worker
from app.models import User
from app.projects import endpoints as projects_api
from app.projects import pages as projects_pages
from app.reviews import endpoints as reviews_api
from app.storage.factory import storage_from_settings
from app.users import endpoints as users_api
from app.users import pages as users_pages
from app.web import pages as web_pages
from app.web.render import render, sign_in_redirect

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.effective_database_url)
    factory = make_sessionmaker(engine)
    broker = Broker(engine, factory, settings.event_poll_seconds)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        await broker.start()
        mail = asyncio.create_task(mail_worker.run_forever(factory, settings))
        yield
        mail.cancel()
        await asyncio.gather(mail, return_exceptions=True)
        await broker.stop()
        engine.dispose()

    app = FastAPI(
        title="Eye Shots",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        dependencies=[Depends(csrf_protect)],
        # served below from vendored assets (app/static/swagger), under the site's CSP
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = factory
    app.state.broker = broker
    app.state.metrics = metrics
    app.state.storage = storage_from_settings(settings)
    app.state.file_keys = links.key_ring(settings)
    app.state.auth = AuthContext(
        settings=settings,
        passwords=Passwords(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
    )

    api = APIRouter(prefix="/api")
    for module in (auth_api, projects_api, users_api, assets_api, reviews_api, invoices_api,
                   events_api):  # fmt: skip
        api.include_router(module.router)
    app.include_router(api)
    for module in (
        auth_pages,
        projects_pages,
        assets_pages,
        invoices_pages,
        users_pages,
        web_pages,
    ):
        app.include_router(module.router, include_in_schema=False)
    if settings.oidc_enabled:
        # Authlib keeps state, nonce and PKCE verifier here for the round trip to the provider;
        # lax, or the cookie is not sent back on the provider's cross-site redirect
        app.add_middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="eyeshots_oidc",
            max_age=600,
            same_site="lax",
            https_only=settings.cookie_secure,
        )
        app.state.oauth = make_oauth(settings)
        app.include_router(oidc.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _operational_routes(app)
    _error_handlers(app)
    openapi.install(app, settings)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(StaleCookieCleaner, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        return render(request, "api_docs.html", None)

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> PlainTextResponse:
        try:
            with app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as error:  # any failure means "not ready", with the reason
            return PlainTextResponse(f"database unreachable: {type(error).__name__}\n", 503)
        return PlainTextResponse("ready\n")

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint() -> PlainTextResponse:
        app.state.metrics.streams.set(app.state.broker.subscribers)
        return PlainTextResponse(
            generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
        )


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _principal_for_error_page(request: Request) -> Principal | None:
    """The request's session was rolled back, which expired its objects: load the user anew."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return None
    user_id = sa_inspect(principal.user).identity[0]
    with request.app.state.sessionmaker() as db:
        user = db.get(User, user_id)
        if user is None:
            return None
        db.expunge(user)
    return Principal(user, principal.session_hash)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):  # noqa: ANN202
        if error.status_code == 405:
            # Starlette names the methods of the first route on this path only
            methods = set()
            for route in request.app.router.routes:
                if route.matches(request.scope)[0] is not Match.NONE:
                    methods |= getattr(route, "methods", None) or set()
            error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, error)

    @app.exception_handler(AppError)
    async def app_error(request: Request, error: AppError):  # noqa: ANN202
        if _is_api(request):
            body = {"detail": error.message}
            if error.field:
                body["field"] = error.field
            headers = (
                {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
            )
            return JSONResponse(body, status_code=error.status_code, headers=headers)
        if isinstance(error, NotAuthenticated):
            return sign_in_redirect(request)
        principal = _principal_for_error_page(request)
        title = {Forbidden: "Access denied", NotFound: "Not found"}.get(type(error), "Sorry")
        return render(request, "error.html", principal, error.status_code, title=title,
                      message=error.message)  # fmt: skip

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, error: Exception):  # noqa: ANN202
        # a number the form allowed but the database column cannot hold
        message = "A value is out of range"
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=422)
        principal = _principal_for_error_page(request)
        return render(request, "error.html", principal, 422, title="Please check the form",
                      message=message)  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):  # noqa: ANN202
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        if _is_api(request):
            return JSONResponse({"detail": fields}, status_code=422)
        principal = _principal_for_error_page(request)
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return render(request, "error.html", principal, 422, title="Please check the form",
                      message=message)  # fmt: skip
