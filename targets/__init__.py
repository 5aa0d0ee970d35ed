"""Jinja2 templates of the text artifacts, one folder per target."""
