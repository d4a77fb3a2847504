"""Small wording helpers for captions built from names."""


def a(noun: str) -> str:
    """``noun`` with its indefinite article: ``a dress``, ``an ankle boot``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
