"""How a consent decision was collected."""

from enum import StrEnum


class ConsentMethod(StrEnum):
    BANNER = "BANNER"
    FORM = "FORM"
    API = "API"
    IMPORT = "IMPORT"
    IMPLIED = "IMPLIED"
    GPC = "GPC"


# Methods where the person did not take an affirmative act of their own.
NOT_EXPLICIT = frozenset({ConsentMethod.IMPLIED, ConsentMethod.GPC})
