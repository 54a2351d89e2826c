from rest_framework.pagination import PageNumberPagination


class HubPagination(PageNumberPagination):
    """``?page=N&page_size=20|50|100|200|500|1000``; other sizes fall back to 20."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 1000
    allowed_sizes = (20, 50, 100, 200, 500, 1000)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        try:
            size = int(raw)
        except (TypeError, ValueError):
            return self.page_size
        return size if size in self.allowed_sizes else self.page_size
