"""Translation anchors of the output head (training/translation_pairs.py, ``mmembed fit-shortcut
--translation-data``): a translated caption must find its English original through the head."""

import numpy as np
import pytest
import torch
from media_files import COLOURS, shape_rows

from mmembed.cli import main
from mmembed.data import write_manifest
from training.shortcut import ShortcutFitConfig, fit_shortcuts
from training.translation_pairs import pair_texts, translation_banks, translation_loss

FRENCH = {
    "red": "rouge",
    "blue": "bleu",
    "green": "vert",
    "yellow": "jaune",
    "purple": "violet",
    "orange": "orange",
    "black": "noir",
    "pink": "rose",
}


def multilingual_rows(rows):
    """Each shape row in English and in (word-for-word) French, as ``mmembed fetch tuxpaint-multilingual`` writes."""
    out = []
    for row in rows:
        out.append({**row, "source": "shapes-en", "lang": "en"})
        words = [FRENCH.get(word, word) for word in row["text"].split()]
        out.append({**row, "text": "Un " + " ".join(words[1:]), "source": "shapes-fr", "lang": "fr"})
    return out


def test_pairs_join_each_translation_to_the_english_row_of_its_item():
    rows = [
        {"image": "a.png", "text": "A frog.", "lang": "en", "source": "x-en"},
        {"image": "a.png", "text": "Une grenouille.", "lang": "fr", "source": "x-fr"},
        {"image": "a.png", "text": "Ein Frosch.", "lang": "de", "source": "x-de"},
        {"image": "b.png", "text": "Un chat.", "lang": "fr", "source": "x-fr"},  # no English row: no pair
        {"image": "c.png", "text": "Taxi.", "lang": "en", "source": "x-en"},
        {"image": "c.png", "text": "Taxi.", "lang": "de", "source": "x-de"},  # the same words: nothing to anchor
    ]
    assert pair_texts(rows) == [("x-fr", "Une grenouille.", "A frog."), ("x-de", "Ein Frosch.", "A frog.")]


def test_the_loss_pulls_translations_onto_their_originals():
    generator = torch.Generator().manual_seed(0)
    english = torch.nn.functional.normalize(torch.randn(64, 16, generator=generator), dim=-1)
    language = torch.randn(1, 16, generator=generator)  # what every translation shares: its language
    translated = torch.nn.functional.normalize(english + 0.8 * language, dim=-1)
    change = torch.zeros(16, 16, requires_grad=True)
    optimizer = torch.optim.Adam([change], lr=1e-2)
    losses = []
    for _ in range(150):
        loss = translation_loss(translated, english, torch.eye(16) + change, 0.05)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    head = (torch.eye(16) + change).detach()
    moved = torch.nn.functional.normalize(translated @ head.T, dim=-1)
    target = torch.nn.functional.normalize(english @ head.T, dim=-1)
    assert (moved * target).sum(-1).mean() > (translated * english).sum(-1).mean() + 0.05


def test_the_loss_masks_translations_that_share_an_original():
    english = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), dim=-1)
    # two languages of one original: neither is the other's negative, so the perfect fit costs nothing
    assert translation_loss(english.clone(), english, torch.eye(2), 0.01).item() == pytest.approx(0.0, abs=1e-4)


def test_the_banks_are_query_vectors_of_each_pair(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    rows = multilingual_rows(shape_rows(tmp_path / "shapes")[:4])
    translated, english = translation_banks(embedder, rows, tmp_path / "cache")
    pairs = pair_texts(rows)
    assert translated.shape == english.shape == (len(pairs), embedder.dimension)
    expected = embedder.encode([text for _, text, _ in pairs], instruction="query")
    np.testing.assert_allclose(translated.numpy(), expected, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="no pairs"):
        translation_banks(embedder, [row for row in rows if row["lang"] == "en"], tmp_path / "cache")


def test_a_head_fitted_with_translations_keeps_them_near_english(make_multimodal_embedder, tmp_path):
    rows = shape_rows(tmp_path / "shapes")
    translations = multilingual_rows(rows)
    pairs = pair_texts(translations)
    closeness = {}
    for weight in (0.0, 4.0):
        torch.manual_seed(0)
        embedder = make_multimodal_embedder()
        config = ShortcutFitConfig(
            steps=30, check_every=5, check_fraction=0.3, weights=(0.0, 0.5), head=True, learning_rate=1e-2
        )
        config.translation_weight = weight
        config.preserve_weight = 0.0
        fit_shortcuts(embedder, rows, tmp_path / f"cache-{weight}", config, translation_rows=translations)
        moved = embedder.encode([text for _, text, _ in pairs], instruction="query")
        target = embedder.encode([original for _, _, original in pairs], instruction="query")
        closeness[weight] = float((moved * target).sum(-1).mean())
    assert closeness[4.0] > closeness[0.0] + 0.01
    with pytest.raises(ValueError, match="anchor the output head"):
        fit_shortcuts(embedder, rows, tmp_path / "cache", ShortcutFitConfig(steps=2), translation_rows=translations)


def test_the_command_refuses_translations_without_a_head(make_multimodal_embedder, tmp_path, capsys):
    torch.manual_seed(0)
    make_multimodal_embedder().save_pretrained(tmp_path / "start")
    rows = shape_rows(tmp_path / "shapes")
    manifest = write_manifest(tmp_path / "shapes.jsonl", rows)
    multilingual = write_manifest(tmp_path / "multilingual.jsonl", multilingual_rows(rows))
    command = ["fit-shortcut", "--model", str(tmp_path / "start"), "--data", str(manifest), "--steps", "4"]
    common = ["--feature-cache", str(tmp_path / "cache"), "--device", "cpu", "--out", str(tmp_path / "out")]
    assert main([*command, "--translation-data", str(multilingual), *common]) == 2
    assert "--translation-data anchors the output head: add --head" in capsys.readouterr().err
    assert main([*command, "--head", "--translation-data", str(multilingual), *common]) == 0
    assert "output head fitted" in capsys.readouterr().out
    assert len(COLOURS) == len(FRENCH)
