"""The operator console: an AdminSite for tenant members and the one tenant-scoped ModelAdmin."""

from __future__ import annotations

from contextvars import ContextVar

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AuthenticationForm
from django.core.cache import cache
from django.http import Http404

from . import audit
from .models import TenantOwned
from .nav import ConsoleNavMixin

LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_SECONDS = 300


class MemberLoginForm(AuthenticationForm):
    """Console login for tenant members (not only staff), throttled per username and address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed attempts. Try again in a few minutes.",
        "no_tenant": "This account does not belong to a tenant.",
    }

    def _throttle_key(self) -> str:
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return f"console-login:{ip}:{(self.data.get('username') or '').lower()}"

    def clean(self):
        key = self._throttle_key()
        if cache.get(key, 0) >= LOGIN_ATTEMPTS:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            cache.set(key, cache.get(key, 0) + 1, LOGIN_WINDOW_SECONDS)
            raise

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        if not hasattr(user, "membership"):
            raise forms.ValidationError(self.error_messages["no_tenant"], code="no_tenant")


class ConsoleSite(ConsoleNavMixin, admin.AdminSite):
    site_header = "Lead hub"
    site_title = "Lead hub console"
    index_title = "Console"
    login_form = MemberLoginForm
    index_template = "console/index.html"

    def has_permission(self, request) -> bool:
        return request.user.is_active and getattr(request, "membership", None) is not None

    def each_context(self, request):
        context = super().each_context(request)
        context["tenant"] = getattr(request, "tenant", None)
        context["membership"] = getattr(request, "membership", None)
        return context


console_site = ConsoleSite(name="console")


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """Django's related-object filter with choices limited to the request's tenant.

    The stock filter lists every row of the related table, which would show one tenant the
    names of another tenant's objects.
    """

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        limit = None
        if issubclass(field.related_model, TenantOwned):
            limit = {"tenant": getattr(request, "tenant", None)}
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=limit)


_console_request: ContextVar = ContextVar("console_request", default=None)


def console_request():
    """The request a console page is rendering, for display methods that need it (absolute
    URLs); None outside a page of an admin using ``RequestContextMixin``."""
    return _console_request.get()


class RequestContextMixin:
    """Expose the request to list/detail display methods through ``console_request()``.

    The response is rendered inside the context, because display methods run at render time.
    """

    def _with_request(self, request, view, *args):
        token = _console_request.set(request)
        try:
            response = view(request, *args)
            return response.render() if hasattr(response, "render") else response
        finally:
            _console_request.reset(token)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._with_request(
            request, super().changeform_view, object_id, form_url, extra_context
        )

    def changelist_view(self, request, extra_context=None):
        return self._with_request(request, super().changelist_view, extra_context)


class TenantAdmin(admin.ModelAdmin):
    """Every console page of a tenant-owned model: scoped rows, scoped pickers, role checks.

    Another tenant's id answers 404; choices in forms list only the tenant's own objects;
    bulk actions only ever receive the tenant's own rows because they start from get_queryset.
    """

    exclude = ("tenant",)
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=getattr(request, "tenant", None))

    def get_list_filter(self, request):
        """Wrap plain relation names so their choices never list another tenant's objects."""
        wrapped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation and issubclass(field.related_model, TenantOwned):
                    entry = (entry, TenantRelatedFieldListFilter)
            wrapped.append(entry)
        return wrapped

    def _scoped(self, db_field, request, kwargs):
        model = db_field.remote_field.model
        if issubclass(model, TenantOwned):
            kwargs["queryset"] = model.objects.for_tenant(getattr(request, "tenant", None))
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(
            db_field, request, **self._scoped(db_field, request, kwargs)
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(
            db_field, request, **self._scoped(db_field, request, kwargs)
        )

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("Not found")

    def _can_write(self, request) -> bool:
        membership = getattr(request, "membership", None)
        return membership is not None and membership.can_write

    def has_view_permission(self, request, obj=None) -> bool:
        return getattr(request, "membership", None) is not None

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request) -> bool:
        return self._can_write(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._can_write(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._can_write(request)

    def save_model(self, request, obj, form, change):
        before = None
        if change and obj.pk:
            previous = type(obj).objects.filter(pk=obj.pk).first()
            before = audit.snapshot(previous) if previous else None
        if not change:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)
        audit.record(request, "update" if change else "create", obj, before)

    def delete_model(self, request, obj):
        audit.record(request, "delete", obj, audit.snapshot(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(request, "delete", obj, audit.snapshot(obj))
        super().delete_queryset(request, queryset)
