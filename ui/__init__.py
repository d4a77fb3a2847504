"""The Gradio demo for text-, image- and sound-to-anything search; presentation over mmembed.Client."""
