"""OAI-PMH error conditions (specification section 3.6), answered inside a 200 OAI-PMH document.

Tree: OaiError (one `<error code=…>` element; `code` is one of CODES), raised by every verb and caught by
`OaiProvider.respond`, which turns it into the error document.
"""

from __future__ import annotations

CODES = (
    "badArgument",
    "badResumptionToken",
    "badVerb",
    "cannotDisseminateFormat",
    "idDoesNotExist",
    "noRecordsMatch",
    "noMetadataFormats",
    "noSetHierarchy",
)


class OaiError(Exception):
    """A request the repository answers with an OAI-PMH `<error code=…>` element."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"not an OAI-PMH error code: {code}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def echoes_arguments(self) -> bool:
        """Whether the response's <request> element may carry the arguments (not after badVerb/badArgument)."""
        return self.code not in ("badVerb", "badArgument")
