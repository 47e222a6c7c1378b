"""Record linkage: which records are the same course on several platforms, and the evidence for it.

The face the backends and the layers above use: `profile_of` and `compare` (one pair), `cluster` (a group),
`Linker` (incremental clusters against an index's `LinkStore`), and the admin decisions protocol.
"""

from indexer.linkage.clusters import ClusterLink, ClusterView, LinkEvidence, cluster, cluster_id_for
from indexer.linkage.decisions import FixedDecisions, LinkDecision, LinkDecisions, NoDecisions
from indexer.linkage.matcher import Verdict, compare
from indexer.linkage.profile import LinkProfile, person_name, profile_of

__all__ = [
    "ClusterLink",
    "ClusterView",
    "FixedDecisions",
    "LinkDecision",
    "LinkDecisions",
    "LinkEvidence",
    "LinkProfile",
    "NoDecisions",
    "Verdict",
    "cluster",
    "cluster_id_for",
    "compare",
    "person_name",
    "profile_of",
]
