"""Configuration for edufed: YAML files validated by pydantic models, with EDUFED_* environment overrides."""

from config.errors import ConfigError
from config.loader import load_settings, load_sources, load_themes
from config.settings import Settings
from config.source_models import SourceConfig
from config.themes import ThemeTable

__all__ = [
    "ConfigError",
    "Settings",
    "SourceConfig",
    "ThemeTable",
    "load_settings",
    "load_sources",
    "load_themes",
]
