"""Training data: the manifest format and the loaders that fetch the packaged sources into it."""
from mmembed.manifest import read_manifest, split_of, write_manifest
from .emoji import build_emoji_manifest
from .fashion_mnist import build_fashion_mnist_manifest
from .fluent_emoji import build_fluent_emoji_manifest
from .instruments import build_instruments_manifest
from .reviews import build_reviews_manifest
from .sonic_pi import build_sonic_pi_manifest
from .speech import build_speech_manifest
from .tuxpaint import build_tuxpaint_manifest, build_tuxpaint_multilingual_manifest
from .wordnet import build_wordnet_manifest
from .wordnet_sts import build_wordnet_sts_manifest

SOURCES = {"tuxpaint": build_tuxpaint_manifest, "tuxpaint-multilingual": build_tuxpaint_multilingual_manifest, "emoji": build_emoji_manifest, "wordnet": build_wordnet_manifest,
           "wordnet-sts": build_wordnet_sts_manifest, "speech": build_speech_manifest,
           "fashion-mnist": build_fashion_mnist_manifest, "sonic-pi": build_sonic_pi_manifest,
           "instruments": build_instruments_manifest, "reviews": build_reviews_manifest,
           "fluent-emoji": build_fluent_emoji_manifest}

__all__ = ["read_manifest", "write_manifest", "split_of", "SOURCES", "build_tuxpaint_manifest", "build_emoji_manifest",
           "build_wordnet_manifest",
           "build_wordnet_sts_manifest", "build_speech_manifest",
           "build_fashion_mnist_manifest", "build_sonic_pi_manifest",
           "build_instruments_manifest", "build_reviews_manifest",
           "build_fluent_emoji_manifest", "build_tuxpaint_multilingual_manifest"]
