"""The Gradio demo: search a collection by text, image or sound; click a result to search with it; add files; see
the shared space. Presentation only: every action is a call on :class:`mmembed.Client`."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import gradio as gr

from .plots import collection_space_figure

MODALITIES = ["any", "image", "audio", "text"]


def hit_label(hit) -> str:
    relevance = f" ({hit.relevance:.0%} relevant)" if hit.relevance is not None else ""
    return f"{hit.score:.3f}{relevance} · {hit.payload.get('caption', '')}"


def results_table(hits, good_match: bool | None = None) -> str:
    if not hits:
        return "No results. Is the collection indexed?"
    calibrated = any(h.relevance is not None for h in hits)  # a relevance column only where the model has one
    rows = "".join(
        f"<tr><td>{i}</td><td>{h.score:.3f}</td>"
        + (f"<td>{'' if h.relevance is None else f'{h.relevance:.0%}'}</td>" if calibrated else "")
        + f"<td>{html.escape(h.payload.get('modality', ''))}</td><td>{html.escape(h.payload.get('caption', ''))}</td>"
        f"<td><code>{html.escape(h.payload.get('relative_path', ''))}</code></td></tr>"
        for i, h in enumerate(hits, 1)
    )
    warning = (
        (
            "<p class='mmembed-no-match'><b>No good match</b> in the collection: the best hit is "
            f"{hits[0].relevance:.0%} likely to be relevant. The nearest items are below.</p>"
        )
        if good_match is False
        else ""
    )
    header = (
        "<th>#</th><th>score</th>"
        + ("<th>relevance</th>" if calibrated else "")
        + "<th>modality</th><th>caption</th><th>file</th>"
    )
    return f"{warning}<table class='mmembed-results'><tr>{header}</tr>{rows}</table>"


def build_demo(client, upload_dir: str | Path) -> gr.Blocks:
    upload_dir = Path(upload_dir)

    def run_search(query, image, audio, modality, k, recorded=None):
        audio = audio or recorded
        given = [x for x in (query.strip() if query else None, image, audio) if x]
        if len(given) != 1:
            raise gr.Error("Give one query: a text, an image or a sound.")
        try:
            hits = client.search(
                query.strip() if query and query.strip() else None,
                image=image,
                audio=audio,
                modality=None if modality == "any" else modality,
                k=int(k),
            )
        except ValueError as error:  # a bad upload: say why, keep running
            reasons = "; ".join(f.reason for f in getattr(error, "failures", [])) or str(error)
            raise gr.Error(f"Cannot use that input: {reasons}") from None
        gallery = [(h.payload["path"], hit_label(h)) for h in hits if h.payload.get("modality") == "image"]
        first_audio = next((h.payload["path"] for h in hits if h.payload.get("modality") == "audio"), None)
        return gallery, results_table(hits, client.good_match(hits)), first_audio, hits

    def search_with_result(hits, event: gr.SelectData):
        images = [h for h in (hits or []) if h.payload.get("modality") == "image"]
        if event.index is None or event.index >= len(images):
            raise gr.Error("That result is gone; search again.")
        return run_search(None, images[event.index].payload["path"], None, "any", 12)[:3] + ([images[event.index]],)

    def add_files(files, progress=gr.Progress()):  # noqa: B008 (how Gradio hands a handler its progress bar)
        if not files:
            raise gr.Error("Choose files to add first.")
        upload_dir.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copy(file, upload_dir / Path(file).name)
        total = len(files)
        report = client.index(
            upload_dir,
            progress=False,
            on_batch=lambda r: progress((r.added + r.updated) / max(total, 1), desc="indexing"),
        )
        return report.summary().replace("\n", "  \n")

    def show_space():
        figure = collection_space_figure(client)
        if figure is None:
            raise gr.Error("The collection is empty.")
        return figure

    with gr.Blocks(title="mmembed search") as demo:
        gr.Markdown(
            f"# mmembed\nOne LLM, one space for text, images and sound. Collection **{client.spec.name}** "
            f"({client.store.count()} items), model `{client.model_id}`."
        )
        with gr.Tab("Search"):
            with gr.Row():
                query = gr.Textbox(label="Text query", placeholder="a red fire truck", elem_id="query")
                # Files, not gr.Image/gr.Audio: those decode uploads themselves and fail with Gradio's own message;
                # here every upload goes through mmembed's decoding, whose errors say what is wrong.
                image = gr.File(label="or an image", file_types=["image"], type="filepath", elem_id="query-image")
                audio = gr.File(label="or a sound", file_types=["audio"], type="filepath", elem_id="query-audio")
                recorded = gr.Audio(
                    label="or record one",
                    sources=["microphone"],
                    type="filepath",
                    format="wav",
                    elem_id="query-recording",
                )
            with gr.Row():
                modality = gr.Dropdown(MODALITIES, value="any", label="Results")
                k = gr.Slider(1, 50, value=12, step=1, label="How many")
                button = gr.Button("Search", variant="primary", elem_id="search-button")
            gallery = gr.Gallery(label="Images (click one to search with it)", columns=6, height=420, elem_id="gallery")
            top_audio = gr.Audio(label="Best sound", interactive=False)
            table = gr.HTML(elem_id="results")
            hits_state = gr.State([])
            outputs = [gallery, table, top_audio, hits_state]
            inputs = [query, image, audio, modality, k, recorded]
            button.click(run_search, inputs, outputs)
            query.submit(run_search, inputs, outputs)
            gallery.select(search_with_result, [hits_state], outputs)
        with gr.Tab("Add files"):
            files = gr.File(label="Images, sounds or text files", file_count="multiple", type="filepath")
            add = gr.Button("Add to the collection")
            added = gr.Markdown()
            add.click(add_files, [files], [added])
        with gr.Tab("Space"):
            draw = gr.Button("Draw the shared space (2-D PCA, coloured by modality)")
            plot = gr.Plot()
            draw.click(show_space, [], [plot])
    return demo
