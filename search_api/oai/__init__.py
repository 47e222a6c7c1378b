"""The OAI-PMH 2.0 data provider at /oai: what the app registers (`router`) and the provider behind it.

Modules: `verbs` answers the six verbs over the index's change log (indexer.backends.changes); `arguments`
checks requests and dates; `tokens` makes and reads resumption tokens; `sets` names the sets; `formats`
builds oai_dc and LOM metadata; `document` the XML around them; `route` the HTTP endpoint.
"""

from search_api.oai.route import router
from search_api.oai.verbs import OaiProvider

__all__ = ["OaiProvider", "router"]
