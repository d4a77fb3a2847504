"""The Gradio demo for text-and-image search."""
