from django.apps import AppConfig


class AdaptorsConfig(AppConfig):
    name = "adaptors"
