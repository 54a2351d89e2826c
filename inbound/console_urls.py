"""Console pages beyond the ModelAdmin ones."""

urlpatterns: list = []
