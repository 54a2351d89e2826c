"""Console pages for adaptors: rows editors for mappings and constants, and a live preview."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html_join

from leads.models import Lead, LeadField
from tenants.console import TenantAdmin, console_site

from . import validation
from .filtersets import AdaptorFilterSet
from .models import Adaptor
from .render import CONTENT_TYPES
from .transforms import EXAMPLES
from .widgets import JsonRowsWidget

MAPPING_COLUMNS = [
    {"name": "source", "label": "Lead field", "placeholder": "first_name"},
    {"name": "target", "label": "Sent as", "placeholder": "properties.firstname"},
    {"name": "transform", "label": "Transform", "placeholder": "upper", "suggestions": EXAMPLES},
    {"name": "default", "label": "Default when empty", "placeholder": ""},
]
CONSTANT_COLUMNS = [
    {"name": "name", "label": "Sent as", "placeholder": "source"},
    {"name": "value", "label": "Value", "placeholder": "lead-hub"},
]


class AdaptorForm(forms.ModelForm):
    delimiter = forms.CharField(
        max_length=10,
        required=False,
        strip=False,
        initial=",",
        help_text="Joins multi-value fields in form, query and text; blank repeats the parameter.",
    )

    class Meta:
        model = Adaptor
        fields = ["name", "mappings", "constants", "body_template", "xml_root", "delimiter"]
        widgets = {
            "mappings": JsonRowsWidget(MAPPING_COLUMNS),
            "constants": JsonRowsWidget(CONSTANT_COLUMNS),
            "body_template": forms.Textarea(
                attrs={
                    "rows": 12,
                    "class": "vLargeTextField adaptor-template",
                    "spellcheck": "false",
                }
            ),
        }
        help_texts = {
            "mappings": "Each lead field to send, the name it is sent as (dots nest in JSON/XML), "
            "an optional transform such as digits|truncate:5 and a default for empty values.",
            "constants": "Values sent with every lead.",
            "body_template": "Optional. Replaces the generated body; sees lead, fields, mapped and "
            'constants. Values are escaped for the format: write "{{ fields.first_name }}" in '
            "JSON, use {{ mapped|tojson }} for whole objects.",
            "xml_root": "Root element of XML bodies.",
        }

    def clean_mappings(self):
        return validation.validate_mappings(self.cleaned_data.get("mappings"))

    def clean_constants(self):
        return validation.validate_constants(self.cleaned_data.get("constants"))

    def clean_body_template(self):
        return validation.validate_body_template(self.cleaned_data.get("body_template"))

    def clean_xml_root(self):
        return validation.validate_xml_root(self.cleaned_data.get("xml_root"))

    def clean(self):
        cleaned = super().clean()
        if "mappings" in cleaned and "constants" in cleaned:
            try:
                validation.validate_targets(cleaned["mappings"], cleaned["constants"])
            except forms.ValidationError as exc:
                self.add_error("mappings", exc)
        return cleaned


class InUseFilter(admin.SimpleListFilter):
    title = "use"
    parameter_name = "in_use"

    def lookups(self, request, model_admin):
        return (("yes", "Used by endpoints"), ("no", "Not used"))

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        return AdaptorFilterSet.filter_in_use(queryset, "in_use", self.value() == "yes")


@admin.register(Adaptor, site=console_site)
class AdaptorAdmin(TenantAdmin):
    form = AdaptorForm
    list_display = ("name", "mapping_count", "endpoint_count", "updated_at")
    list_filter = (InUseFilter,)
    search_fields = ("name",)
    readonly_fields = ("used_by",)
    fieldsets = (
        (None, {"fields": ("name", "mappings", "constants")}),
        ("Body", {"fields": ("body_template", "xml_root", "delimiter")}),
        ("Use", {"fields": ("used_by",)}),
    )
    change_form_template = "adaptors/change_form.html"

    class Media:
        css = {"all": ("adaptors/adaptor_form.css",)}
        js = ("adaptors/adaptor_form.js",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(endpoint_count=Count("endpoints"))

    @admin.display(description="Mappings")
    def mapping_count(self, obj: Adaptor) -> int:
        return len(obj.mappings or [])

    @admin.display(description="Used by endpoints", ordering="endpoint_count")
    def endpoint_count(self, obj: Adaptor) -> int:
        return obj.endpoint_count

    @admin.display(description="Used by")
    def used_by(self, obj: Adaptor):
        if obj.pk is None:
            return "—"
        endpoints = list(obj.endpoints.order_by("name").values_list("pk", "name"))
        if not endpoints:
            return "No endpoint uses this adaptor yet."
        try:
            links = [
                (reverse("console:endpoints_endpoint_change", args=[pk]), name)
                for pk, name in endpoints
            ]
        except NoReverseMatch:  # the endpoints console pages are not registered
            return ", ".join(name for _, name in endpoints)
        return format_html_join(", ", '<a href="{}">{}</a>', links)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        widget = getattr(form.base_fields.get("mappings"), "widget", None)
        if isinstance(widget, JsonRowsWidget):
            names = LeadField.objects.for_tenant(request.tenant).values_list("name", flat=True)
            widget.suggest("source", list(names))
        return form

    def _sample(self, request) -> tuple[dict, str]:
        lead = Lead.objects.for_tenant(request.tenant).only("pk", "fields").first()
        if lead is not None and lead.fields:
            return lead.fields, f"the newest lead (#{lead.pk})"
        return validation.SAMPLE_FIELDS, "standard sample values (no leads yet)"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        sample, label = self._sample(request)
        editable = self.has_add_permission(request) if add else self.has_change_permission(request)
        context["adaptor_preview"] = {
            "draft_url": reverse("adaptor-preview-draft"),
            "detail_url": reverse("adaptor-preview", args=[obj.pk]) if obj is not None else "",
            "editable": editable,
            "sample_json": json.dumps(sample, ensure_ascii=False, indent=2),
            "sample_label": label,
            "content_types": CONTENT_TYPES,
        }
        return super().render_change_form(request, context, add, change, form_url, obj)
