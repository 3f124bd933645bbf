"""The careqa web app (Gradio): `careqa serve` starts it."""
