"""Ärenden: the individ (encrypted), where the case stands on the process map and its history,
drafts, the answers typed once, and the document registry that produces and files blanketter.
May import accounts, blanketter, rendering and processkarta; never web or doctor."""
