"""Public URLs of this app: the request bins."""

from django.urls import path

from .views import receive_view

urlpatterns = [
    path("sandbox/<str:token>", receive_view, name="request-bin"),
    path("sandbox/<str:token>/<path:rest>", receive_view, name="request-bin-subpath"),
]
