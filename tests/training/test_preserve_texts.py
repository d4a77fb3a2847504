"""What the output head keeps in place (training/preserve_texts.py, ``mmembed fit-shortcut --head --preserve-data``):
captions, the labels' zero-shot prompts and any manifest's texts keep their neighbours through the head."""

import numpy as np
import pytest
import torch
from media_files import shape_rows

from mmembed.cli import main
from mmembed.data import write_manifest
from mmembed.evaluation.tasks import PROMPTS
from training.preserve_texts import (
    PreservePart,
    label_prompts,
    preserve_loss,
    preserve_parts,
    preserve_sample,
    source_texts,
    text_languages,
)
from training.shortcut import ShortcutFitConfig, fit_shortcuts
from training.teachers import TextTeacher

WORDS = ["apple", "river", "engine", "violin", "castle", "thunder", "pepper", "glacier", "lantern", "meadow"]


def text_pair_rows():
    """WordNet-like lemma / gloss pairs of one text source."""
    return [{"text": word, "positive": f"a kind of {word} often seen", "source": "words"} for word in WORDS]


def labelled(rows):
    return [{**row, "label": row["text"].split()[-1].rstrip(".")} for row in rows]


def test_prompts_cover_every_label_once_in_every_template():
    rows = [{"label": "frog"}, {"label": "frog"}, {"label": 0}, {"label": None}, {"label": ""}, {"text": "x"}]
    prompts = label_prompts(rows)
    assert prompts == sorted({p.format(label) for label in ("frog", "0") for p in PROMPTS})
    assert len(prompts) == 2 * len(PROMPTS)


def test_source_texts_takes_every_string_field_up_to_a_limit_spread_by_hash():
    sts = {"text": "one", "pair": "two", "score": 3.0, "source": "sts"}
    rows = [*text_pair_rows(), sts, {"text": " ", "source": "x"}]
    texts = source_texts(rows, limit=100)
    assert texts["sts"] == ["one", "two"] and "x" not in texts
    assert len(texts["words"]) == 2 * len(WORDS)
    few = source_texts(rows, limit=5)["words"]
    assert len(few) == 5 and set(few) <= set(texts["words"]) and few == sorted(few)
    assert few == source_texts(list(reversed(rows)), limit=5)["words"]  # fixed by the texts, not the row order


def part(value: float, size: int, teacher: bool = False) -> PreservePart:
    vectors = torch.cat([torch.full((size, 1), value), torch.arange(size, dtype=torch.float32)[:, None]], dim=1)
    return PreservePart([f"{value} {i}" for i in range(size)], vectors, -vectors if teacher else None)


def test_each_step_samples_the_parts_equally():
    parts = {"captions": part(0.0, 1000), "prompts": part(1.0, 12), "data": part(2.0, 300)}
    sample, targets, taught = preserve_sample(parts, 96, torch.Generator().manual_seed(0))
    values = sample[:, 0].tolist()
    assert values.count(0.0) == 32 and values.count(1.0) == 12 and values.count(2.0) == 32
    assert targets is None and taught is None
    with_teacher = {name: part(p.vectors[0, 0].item(), len(p.texts), teacher=True) for name, p in parts.items()}
    sample, targets, taught = preserve_sample(with_teacher, 96, torch.Generator().manual_seed(0))
    torch.testing.assert_close(targets, -sample)  # each text's target row travels with it
    assert taught is None  # no language limit: the teacher sets every text
    data = with_teacher["data"]
    data.taught = data.vectors[:, 1] % 2 == 0  # the teacher sets the even texts of one part only
    sample, targets, taught = preserve_sample(with_teacher, 96, torch.Generator().manual_seed(0))
    expected = (sample[:, 0] != 2.0) | (sample[:, 1] % 2 == 0)
    assert taught.tolist() == expected.tolist() and 0 < (~taught).sum() < 32


def test_preserve_loss_is_zero_at_the_identity_and_grows_with_a_change():
    generator = torch.Generator().manual_seed(0)
    texts = torch.nn.functional.normalize(torch.randn(32, 16, generator=generator), dim=-1)
    assert preserve_loss(texts, torch.eye(16), 0.05).item() == pytest.approx(0.0, abs=1e-5)
    squashed = torch.eye(16)
    squashed[8:, 8:] *= 0.1  # half the directions nearly gone: neighbourhoods change
    assert preserve_loss(texts, squashed, 0.05).item() > 0.1


def test_with_a_teacher_the_before_is_the_teachers_neighbourhood():
    generator = torch.Generator().manual_seed(0)
    texts = torch.nn.functional.normalize(torch.randn(32, 16, generator=generator), dim=-1)
    rotation = torch.linalg.qr(torch.randn(16, 16, generator=generator))[0]
    same = texts @ rotation  # another space, the same neighbourhoods
    assert preserve_loss(texts, torch.eye(16), 0.05, targets=same).item() == pytest.approx(0.0, abs=1e-4)
    teacher = torch.nn.functional.normalize(torch.randn(32, 8, generator=generator), dim=-1)
    assert preserve_loss(texts, torch.eye(16), 0.05, targets=teacher).item() > 0.1
    halfway = preserve_loss(texts, torch.eye(16), 0.05, targets=teacher, teacher_share=0.5).item()
    assert 0.0 < halfway < preserve_loss(texts, torch.eye(16), 0.05, targets=teacher).item()
    assert preserve_loss(texts, torch.eye(16), 0.05, targets=teacher, teacher_share=0.0).item() == pytest.approx(
        0.0, abs=1e-5
    )  # no share: the model's own neighbourhoods, as without a teacher
    with pytest.raises(ValueError, match="must lie in"):
        preserve_loss(texts, torch.eye(16), 0.05, targets=teacher, teacher_share=1.5)


def test_a_teacher_limited_to_some_texts_ranks_only_those_and_leaves_the_rest_their_own():
    generator = torch.Generator().manual_seed(0)
    texts = torch.nn.functional.normalize(torch.randn(32, 16, generator=generator), dim=-1)
    rotation = torch.linalg.qr(torch.randn(16, 16, generator=generator))[0]
    teacher = texts @ rotation  # the teacher agrees with the model on the first 20 texts ...
    teacher[20:] = torch.nn.functional.normalize(torch.randn(12, 16, generator=generator), dim=-1)  # ... not on these
    taught = torch.arange(32) < 20
    everywhere = preserve_loss(texts, torch.eye(16), 0.05, targets=teacher).item()
    assert everywhere > 0.1
    limited = preserve_loss(texts, torch.eye(16), 0.05, targets=teacher, taught=taught).item()
    assert limited == pytest.approx(0.0, abs=1e-4)  # taught texts rank taught ones alike; the rest rank by their own
    nobody = preserve_loss(texts, torch.eye(16), 0.05, targets=-texts, taught=torch.zeros(32, dtype=torch.bool))
    assert nobody.item() == pytest.approx(0.0, abs=1e-5)  # no text taught: the model's own neighbourhoods
    squashed = torch.eye(16)
    squashed[8:, 8:] *= 0.1
    assert preserve_loss(texts, squashed, 0.05, targets=teacher, taught=taught).item() > 0.1  # a change still shows


def test_a_text_is_in_its_rows_language_and_english_without_one():
    rows = [
        {"text": "A frog.", "source": "tuxpaint-en", "lang": "en"},
        {"text": "Une grenouille.", "source": "tuxpaint-fr", "lang": "fr"},
        {"text": "apple", "positive": "a fruit", "source": "wordnet"},
        {"text": "Une grenouille.", "lang": "de"},  # the first row holding a text names its language
    ]
    assert text_languages(rows) == {"A frog.": "en", "Une grenouille.": "fr", "apple": "en", "a fruit": "en"}


def test_the_parts_are_the_query_vectors_of_their_texts(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    fit_rows = labelled(shape_rows(tmp_path / "shapes"))
    captions = PreservePart(["a", "b", "c"], torch.zeros(3, embedder.dimension))
    parts = preserve_parts(embedder, captions, fit_rows, text_pair_rows(), tmp_path / "cache", limit=8)
    assert list(parts) == ["captions", "prompts", "data"]
    assert parts["captions"] is captions
    assert parts["prompts"].texts == label_prompts(fit_rows)
    expected = embedder.encode(label_prompts(fit_rows), instruction="query")
    np.testing.assert_allclose(parts["prompts"].vectors.numpy(), expected, atol=1e-5, rtol=0)
    assert parts["data"].texts == source_texts(text_pair_rows(), 8)["words"]
    words = embedder.encode(parts["data"].texts, instruction="query")
    np.testing.assert_allclose(parts["data"].vectors.numpy(), words, atol=1e-5, rtol=0)
    assert all(p.targets is None for p in parts.values())
    assert list(preserve_parts(embedder, captions, shape_rows(tmp_path / "shapes"), [], tmp_path / "cache")) == [
        "captions"
    ]


def test_a_head_fitted_with_preserve_data_moves_those_texts_less(make_multimodal_embedder, tmp_path):
    rows = shape_rows(tmp_path / "shapes")
    others = text_pair_rows()
    texts = sorted({t for row in others for t in (row["text"], row["positive"])})
    drift = {}
    for name, preserve in (("without", None), ("with", others)):
        torch.manual_seed(0)
        embedder = make_multimodal_embedder()
        before = torch.from_numpy(embedder.encode(texts, instruction="query"))
        config = ShortcutFitConfig(
            steps=30, check_every=5, check_fraction=0.3, weights=(0.0, 0.5), head=True, learning_rate=1e-2
        )
        config.preserve_weight = 4.0
        fit_shortcuts(embedder, rows, tmp_path / f"cache-{name}", config, preserve_rows=preserve)
        drift[name] = preserve_loss(before, embedder.head.cpu(), config.preserve_temperature).item()
    assert drift["with"] < drift["without"]
    with pytest.raises(ValueError, match="preserve rows hold texts in place"):
        fit_shortcuts(embedder, rows, tmp_path / "cache", ShortcutFitConfig(steps=2), preserve_rows=others)


def test_the_command_refuses_preserve_data_without_a_head(make_multimodal_embedder, tmp_path, capsys):
    torch.manual_seed(0)
    make_multimodal_embedder().save_pretrained(tmp_path / "start")
    manifest = write_manifest(tmp_path / "shapes.jsonl", shape_rows(tmp_path / "shapes"))
    words = write_manifest(tmp_path / "words.jsonl", text_pair_rows())
    command = ["fit-shortcut", "--model", str(tmp_path / "start"), "--data", str(manifest), "--steps", "4"]
    common = ["--feature-cache", str(tmp_path / "cache"), "--device", "cpu", "--out", str(tmp_path / "out")]
    assert main([*command, "--preserve-data", str(words), *common]) == 2
    assert "--preserve-data holds texts in place under the output head: add --head" in capsys.readouterr().err
    assert main([*command, "--preserve-teacher", "mpnet", *common]) == 2
    assert "--preserve-teacher sets the output head's text neighbourhoods: add --head" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*command, "--head", "--preserve-teacher", "minilm", "--preserve-teacher-share", "2", *common])
    assert "2 is not a number from 0 to 1" in capsys.readouterr().err
    assert main([*command, "--head", "--preserve-teacher-languages", "en", *common]) == 2
    assert "--preserve-teacher-languages limits a teacher's texts: add --preserve-teacher" in capsys.readouterr().err
    assert main([*command, "--head", "--preserve-teacher-parts", "data", *common]) == 2
    assert "--preserve-teacher-parts limits a teacher's texts: add --preserve-teacher" in capsys.readouterr().err
    assert (
        main([*command, "--head", "--preserve-teacher", "minilm", "--preserve-teacher-parts", "wordnet", *common]) == 2
    )
    assert "unknown part(s) wordnet; known: captions, prompts, data" in capsys.readouterr().err
    assert main([*command, "--head", "--preserve-data", str(words), *common]) == 0
    assert "output head fitted" in capsys.readouterr().out


def test_a_teacher_gives_every_part_its_vectors_of_the_same_texts(make_multimodal_embedder, tmp_path):
    """The packaged all-MiniLM-L6-v2 as the teacher: each part's targets are its vectors of the part's texts."""
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    fit_rows = labelled(shape_rows(tmp_path / "shapes"))
    captions = PreservePart(["a red circle", "a blue square"], torch.zeros(2, embedder.dimension))
    teacher = TextTeacher("minilm")
    parts = preserve_parts(embedder, captions, fit_rows, text_pair_rows(), tmp_path / "cache", 8, teacher)
    for name, piece in parts.items():
        assert piece.targets.shape == (len(piece.texts), 384), name
        torch.testing.assert_close(piece.targets, TextTeacher("minilm").embed(piece.texts), atol=1e-5, rtol=0)
        assert piece.taught is None, name  # no language limit: the teacher sets every text
    french = [{"text": f"un mot {word}", "source": "mots", "lang": "fr"} for word in WORDS[:4]]
    limited = preserve_parts(
        embedder, captions, fit_rows, text_pair_rows() + french, tmp_path / "c", 8, teacher, ("en",)
    )
    assert limited["captions"].taught.all() and limited["prompts"].taught.all()  # no lang: English
    data = limited["data"]
    assert [t for t, ok in zip(data.texts, data.taught) if not ok] == sorted(row["text"] for row in french)
    some = preserve_parts(
        embedder, captions, fit_rows, text_pair_rows() + french, tmp_path / "c", 8, teacher, None, ("data",)
    )
    assert not some["captions"].taught.any() and not some["prompts"].taught.any()  # parts left out keep their own
    assert [t for t, ok in zip(some["data"].texts, some["data"].taught) if not ok] == []  # every language of data
    both = preserve_parts(
        embedder, captions, fit_rows, french, tmp_path / "c", 8, teacher, ("en",), ("data", "prompts")
    )
    assert both["prompts"].taught.all() and not both["data"].taught.any() and not both["captions"].taught.any()
    with pytest.raises(ValueError, match="unknown preserve part"):
        preserve_parts(embedder, captions, fit_rows, [], tmp_path / "c", 8, teacher, None, ("wordnet",))


def test_a_head_fitted_with_a_teacher_takes_its_neighbourhoods(make_multimodal_embedder, tmp_path):
    rows = shape_rows(tmp_path / "shapes")
    others = text_pair_rows()
    texts = sorted({t for row in others for t in (row["text"], row["positive"])})
    teacher = TextTeacher("minilm").embed(texts)
    gap = {}
    for name in ("own", "minilm"):
        torch.manual_seed(0)
        embedder = make_multimodal_embedder()
        before = torch.from_numpy(embedder.encode(texts, instruction="query"))
        config = ShortcutFitConfig(
            steps=30, check_every=5, check_fraction=0.3, weights=(0.0, 0.5), head=True, learning_rate=1e-2
        )
        config.preserve_weight, config.preserve_teacher = 4.0, (None if name == "own" else name)
        fit_shortcuts(embedder, rows, tmp_path / f"cache-{name}", config, preserve_rows=others)
        gap[name] = preserve_loss(before, embedder.head.cpu(), config.preserve_temperature, teacher).item()
    assert gap["minilm"] < gap["own"]
    with pytest.raises(ValueError, match="unknown teacher 'bert'"):
        fit_shortcuts(embedder, rows, tmp_path / "cache", ShortcutFitConfig(head=True, preserve_teacher="bert"))
    limit = "preserve teacher languages or parts limit a preserve teacher"
    for config in (
        ShortcutFitConfig(head=True, preserve_teacher_languages=("en",)),
        ShortcutFitConfig(head=True, preserve_teacher_parts=("data",)),
    ):
        with pytest.raises(ValueError, match=limit):
            fit_shortcuts(embedder, rows, tmp_path / "cache", config)
