"""InfoNCE's teacher option: soft targets from a frozen text teacher's in-batch similarities (real MiniLM)."""

import pytest
import torch
import torch.nn.functional as F

from mmembed.sentence_models import minilm_embed
from mmembed.training_items import FeatureItem
from training.batches import Example, TrainBatch, make_batch
from training.objectives import build_objectives
from training.objectives.infonce import soft_cross_entropy
from training.teachers import TextTeacher

CAPTIONS = ["A grinning face.", "A smiling face.", "A red bicycle.", "A violin."]


def test_soft_cross_entropy_is_the_kl_divergence_and_ignores_cells_masked_in_both():
    torch.manual_seed(0)
    student, teacher = torch.randn(3, 5), torch.randn(3, 5)
    expected = F.kl_div(student.log_softmax(-1), teacher.log_softmax(-1), log_target=True, reduction="batchmean")
    torch.testing.assert_close(soft_cross_entropy(student, teacher), expected)
    assert soft_cross_entropy(teacher, teacher).item() == pytest.approx(0.0, abs=1e-6)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[0, 1] = True
    masked = soft_cross_entropy(student.masked_fill(mask, float("-inf")), teacher.masked_fill(mask, float("-inf")))
    assert torch.isfinite(masked)
    kept = [0, 2, 3, 4]

    def kl(s, t):
        return F.kl_div(s.log_softmax(-1), t.log_softmax(-1), log_target=True, reduction="sum")

    torch.testing.assert_close(masked, (kl(student[0, kept], teacher[0, kept]) + kl(student[1:], teacher[1:])) / 3)


def test_teacher_vectors_are_minilms_and_memoised():
    teacher = TextTeacher("minilm", "cpu")
    vectors = teacher.embed(CAPTIONS + CAPTIONS[:1])
    reference = torch.from_numpy(minilm_embed(CAPTIONS, device="cpu", progress=False))
    torch.testing.assert_close(vectors[:4], reference, atol=1e-5, rtol=0)  # other batch shapes: last-bit differences
    assert torch.equal(vectors[0], vectors[4]) and len(teacher.memory) == 4
    with pytest.raises(ValueError, match="unknown teacher 'clip'"):
        TextTeacher("clip")


def test_infonce_with_teacher_adds_the_weighted_kl_and_pulls_synonyms_together(make_embedder):
    torch.manual_seed(0)
    embedder = make_embedder()
    settings = {"temperature": 0.05, "learnable_temperature": False}
    plain = build_objectives({"infonce": settings})["infonce"]
    taught = build_objectives({"infonce": {**settings, "teacher": {"model": "minilm", "weight": 0.5}}})["infonce"]
    taught.prepare(embedder)
    batch = TrainBatch([FeatureItem(f"Emoji: {c}") for c in CAPTIONS], CAPTIONS)
    with torch.no_grad():
        base, _ = plain(embedder, batch)
        total, metrics = taught(embedder, batch)
    assert metrics["distill"] > 0
    assert total.item() == pytest.approx(base.item() + 0.5 * metrics["distill"], rel=1e-5)

    # the gradient on the student's similarity logits: plain InfoNCE pushes "grinning" away from the "smiling"
    # document; the teacher, which knows the two are near-synonyms, pushes it away less than an unrelated one
    cosines = torch.zeros(4, 4, requires_grad=True)
    taught.distillation(batch, cosines, None).backward()
    assert cosines.grad[0, 1] < cosines.grad[0, 2]  # descent raises the synonym's cell more than the bicycle's


@pytest.mark.parametrize("temperature", [0.05, 0.2])
def test_a_student_with_the_teachers_cosines_is_not_taught_anything_at_any_temperature(make_embedder, temperature):
    """Both matrices are compared at the teacher's temperature: a soft teacher softens the targets, it does not
    ask the student (whose InfoNCE temperature is its own) to make its similarities flat."""
    taught = build_objectives({"infonce": {"teacher": {"model": "minilm", "temperature": temperature}}})["infonce"]
    taught.prepare(make_embedder())
    batch = TrainBatch([FeatureItem(c) for c in CAPTIONS], CAPTIONS)
    cosines = taught.teacher.embed(CAPTIONS) @ taught.teacher.embed(CAPTIONS).T
    assert taught.distillation(batch, cosines, None).item() == pytest.approx(0.0, abs=1e-6)
    assert taught.distillation(batch, cosines * 0.5, None).item() > 1e-3


def test_teacher_skips_sources_it_cannot_read(make_embedder):
    embedder = make_embedder()
    taught = build_objectives({"infonce": {"teacher": {"skip_sources": ["tuxpaint-*"]}}})["infonce"]
    taught.prepare(embedder)
    examples = [Example(FeatureItem("Une grenouille."), "Une grenouille.", source="tuxpaint-fr")] * 2
    assert make_batch(examples, [0, 1]).source == "tuxpaint-fr"
    with torch.no_grad():
        _, metrics = taught(embedder, make_batch(examples, [0, 1]))
    assert "distill" not in metrics
    english = [Example(FeatureItem(c), c, source="tuxpaint") for c in CAPTIONS]
    with torch.no_grad():
        _, metrics = taught(embedder, make_batch(english, [0, 1, 2]))
    assert "distill" in metrics
    with pytest.raises(ValueError, match="unknown settings"):
        build_objectives({"infonce": {"teacher": {"modle": "minilm"}}})


def test_passage_teacher_shapes_document_to_document_similarities(make_embedder):
    torch.manual_seed(0)
    embedder = make_embedder()
    settings = {"temperature": 0.05, "learnable_temperature": False}
    plain = build_objectives({"infonce": settings})["infonce"]
    taught = build_objectives({"infonce": {**settings, "passage_teacher": {"model": "minilm", "weight": 0.5}}})
    taught = taught["infonce"]
    taught.prepare(embedder)
    batch = TrainBatch([FeatureItem(c) for c in CAPTIONS], [f"What is {c}" for c in CAPTIONS])
    with torch.no_grad():
        base, _ = plain(embedder, batch)
        total, metrics = taught(embedder, batch)
    assert "distill" not in metrics and metrics["passage_distill"] > 0
    assert total.item() == pytest.approx(base.item() + 0.5 * metrics["passage_distill"], rel=1e-5)

    # a student whose documents sit as the teacher's do learns nothing; one whose synonyms are apart is pulled in
    vectors = taught.passage_teacher.embed(CAPTIONS)
    assert taught.passage_distillation(batch, vectors).item() == pytest.approx(0.0, abs=1e-6)
    apart = torch.eye(4, requires_grad=True)  # every document orthogonal to every other
    taught.passage_distillation(batch, apart).backward()
    # descent moves "grinning" toward "smiling" (dimension 1) more than toward "bicycle" (dimension 2)
    assert apart.grad[0, 1] < apart.grad[0, 2]


def test_passage_teacher_leaves_out_each_document_and_its_twins():
    objective = build_objectives({"infonce": {"passage_teacher": {"model": "minilm"}}})["infonce"]
    objective.prepare(type("E", (), {"device": "cpu"})())
    twins = TrainBatch([FeatureItem("A violin."), FeatureItem("A violin.")], ["a", "b"])
    assert objective.passage_distillation(twins, torch.eye(2)).item() == 0.0  # nothing else to compare with
    three = TrainBatch([FeatureItem(c) for c in ("A violin.", "A violin.", "A red bicycle.")], ["a", "b", "c"])
    items = F.normalize(torch.randn(3, 4), dim=-1)
    items[1] = items[0]  # the violins' rows keep the bicycle alone; the bicycle's row sees two equal violins
    assert objective.passage_distillation(three, items).item() == pytest.approx(0.0, abs=1e-6)
    items[1] = -items[0]  # unequal to the student, equal to the teacher: taught
    assert objective.passage_distillation(three, items).item() > 1e-3


def test_one_teacher_serves_both_when_they_name_the_same_model(make_embedder):
    embedder = make_embedder()
    both = build_objectives({"infonce": {"teacher": {"weight": 1.0}, "passage_teacher": {"model": "minilm"}}})[
        "infonce"
    ]
    both.prepare(embedder)
    assert both.passage_teacher is both.teacher
    with pytest.raises(ValueError, match="infonce passage_teacher: unknown settings"):
        build_objectives({"infonce": {"passage_teacher": {"wieght": 1.0}}})
