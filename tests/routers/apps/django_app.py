"""Django echo application (runserver, no reloader): the policy's routes as
URLconf patterns, host routing the way Django documents it (a middleware
setting request.urlconf from request.get_host()), a catch-all. Django has no
method routing, so the method-scoped route's view checks request.method.
Answers {route, host, hh, method, path} in the body and the x-echo header.

    python django_app.py PORT
"""

import json
import sys

from django.conf import settings

ADMIN = "admin.contoso.example"

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[__name__ + ".HostRouting"],
    SECRET_KEY="router-differential",
    USE_TZ=True,
    LOGGING_CONFIG=None,
)

from django.http import HttpResponse  # noqa: E402
from django.http.request import split_domain_port  # noqa: E402
from django.urls import path, re_path  # noqa: E402


class HostRouting:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        domain, _port = split_domain_port(request.get_host())
        if domain == ADMIN:
            request.urlconf = AdminUrls  # a module-like object with urlpatterns
        return self.get_response(request)


def echo(route):
    def view(request, **_kw):
        body = json.dumps({"route": route, "host": request.get_host(), "hh": request.META.get("HTTP_HOST"),
                           "method": request.META.get("REQUEST_METHOD"), "path": request.path_info,
                           "wsgi_path": request.META.get("PATH_INFO"), "query": request.META.get("QUERY_STRING")}, ensure_ascii=True)
        r = HttpResponse(body, content_type="application/json")
        r["x-echo"] = body
        return r
    return view


def reports(request, **kw):
    return echo("reports" if request.method in ("GET", "HEAD", "DELETE") else "default")(request, **kw)


def tree(p, view):
    return [path(p, view), path(p + "/<path:rest>", view)]


common = (
    tree("commerce", echo("customers"))
    + [path("dashboard/support/csp/customers/<str:id>", echo("csp_customers"))]
    + tree("dashboard/billing", echo("billing"))
    + tree("reports", reports)
    + tree("v1", echo("api"))
    + [path("healthz", echo("health"))]
)
catch_all = [re_path(r"^.*$", echo("default"))]
urlpatterns = common + catch_all


class AdminUrls:
    urlpatterns = tree("settings", echo("admin_settings")) + common + catch_all


if __name__ == "__main__":
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    execute_from_command_line(["django_app.py", "runserver", "--noreload", f"127.0.0.1:{sys.argv[1]}"])
