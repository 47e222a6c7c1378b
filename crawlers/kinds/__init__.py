"""Source kinds: one harvester class per kind of feed, chosen from a source config by its `kind`."""

# importing a kind's module registers it
from crawlers.kinds import html, json_api, oai_pmh, rss, sitemap, static_catalog
from crawlers.kinds.base import SOURCE_KINDS, ItemProblem, Source, build_source, lookup

__all__ = [
    "SOURCE_KINDS",
    "ItemProblem",
    "Source",
    "build_source",
    "html",
    "json_api",
    "lookup",
    "oai_pmh",
    "rss",
    "sitemap",
    "static_catalog",
]
