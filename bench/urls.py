"""The product URLs plus two baseline views under /bench/ (never mounted in production)."""

from django.urls import path

from config.urls import urlpatterns as product_urlpatterns

from . import views

urlpatterns = [
    path("bench/bare", views.bare, name="bench-bare"),
    path("bench/naive/<int:tenant_id>/<int:campaign_id>", views.naive, name="bench-naive"),
    *product_urlpatterns,
]
