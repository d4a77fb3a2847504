"""Image and audio towers and the projectors that turn their features into soft tokens for the LLM."""
