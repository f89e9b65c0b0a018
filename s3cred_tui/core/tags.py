"""Every resource s3cred-tui creates carries this tag, so it can be found and cleaned up later."""

CREATED_BY_KEY = "created-by"
CREATED_BY_VALUE = "s3cred-tui"
CREATED_BY_TAG = {"Key": CREATED_BY_KEY, "Value": CREATED_BY_VALUE}


def is_ours(tags: list[dict] | dict | None) -> bool:
    if not tags:
        return False
    if isinstance(tags, dict):
        return tags.get(CREATED_BY_KEY) == CREATED_BY_VALUE
    return any(t.get("Key") == CREATED_BY_KEY and t.get("Value") == CREATED_BY_VALUE for t in tags)
