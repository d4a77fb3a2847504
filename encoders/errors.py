"""An input a tower cannot take: the reason, in words a user can act on. The embedder adds which item it was."""


class MediaError(ValueError):
    pass
