"""Console pages beyond the ModelAdmin ones: the Retry and Cancel buttons of a delivery."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from tenants.console import console_site

from . import services
from .models import OPEN_STATUSES, Delivery


def _operate(request, pk: int, act) -> object:
    membership = getattr(request, "membership", None)
    if membership is None or not membership.can_write:
        raise PermissionDenied("This account may read but not change.")
    delivery = get_object_or_404(Delivery.objects.for_tenant(request.tenant), pk=pk)
    act(request, delivery)
    return redirect(reverse("console:deliveries_delivery_change", args=[delivery.pk]))


@require_POST
def retry_view(request, pk: int):
    def act(request, delivery):
        services.retry(Delivery.objects.filter(pk=delivery.pk))
        messages.success(request, f"Delivery {delivery.pk} will be sent again now.")

    return _operate(request, pk, act)


@require_POST
def cancel_view(request, pk: int):
    def act(request, delivery):
        if delivery.status not in OPEN_STATUSES:
            messages.error(
                request, f"Delivery {delivery.pk} is {delivery.status}; only open ones cancel."
            )
            return
        services.cancel(Delivery.objects.filter(pk=delivery.pk))
        messages.success(request, f"Delivery {delivery.pk} canceled.")

    return _operate(request, pk, act)


urlpatterns = [
    path("<int:pk>/retry/", console_site.admin_view(retry_view), name="delivery-retry"),
    path("<int:pk>/cancel/", console_site.admin_view(cancel_view), name="delivery-cancel"),
]
