"""Bundled demo platforms for `edufed serve --demo`: loopback copies of real platforms, and their sources."""

from crawlers.demo.content import DemoCatalogue, DemoCourse, DemoDataError, DemoFeedItem, load_catalogue
from crawlers.demo.server import DemoPlatforms, demo_sources

__all__ = [
    "DemoCatalogue",
    "DemoCourse",
    "DemoDataError",
    "DemoFeedItem",
    "DemoPlatforms",
    "demo_sources",
    "load_catalogue",
]
