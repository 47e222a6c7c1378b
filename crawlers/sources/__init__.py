"""Source kinds: one harvester class per kind of feed, chosen from a source config by its `kind`."""

from crawlers.sources import json_api, rss
from crawlers.sources.base import SOURCE_KINDS, ItemProblem, Source, build_source, lookup

__all__ = ["SOURCE_KINDS", "ItemProblem", "Source", "build_source", "json_api", "lookup", "rss"]
