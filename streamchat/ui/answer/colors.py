"""The answer's colours, taken from the app's Textual theme, and one renderer per set of colours."""

from __future__ import annotations

from functools import lru_cache

from textual.app import App
from textual.color import Color

from streamchat.ui.answer.render import BlockRenderer, MarkdownColors

__all__ = ["colors_from", "renderer_for"]


def _color(variables: dict[str, str], name: str, fallback: str) -> Color:
    try:
        return Color.parse(variables.get(name, fallback))
    except Exception:  # noqa: BLE001 - a theme variable that is not a plain colour ("auto 60%")
        return Color.parse(fallback)


def colors_from(variables: dict[str, str], dark: bool) -> MarkdownColors:
    """The colours for a theme's CSS variables (``App.theme_variables``)."""
    background = _color(variables, "background", "#121212")
    foreground = _color(variables, "foreground", "#E0E0E0")
    surface = _color(variables, "surface", "#1E1E1E")
    return MarkdownColors(
        heading=_color(variables, "markdown-h1-color", variables.get("primary", "#0178D4")).hex6,
        accent=_color(variables, "text-accent", "#FFC473").hex6,
        link=_color(variables, "text-primary", "#57A5E2").hex6,
        muted=background.blend(foreground, 0.6).hex6,
        code_background=surface.blend(foreground, 0.04).hex6,
        dark=dark,
    )


@lru_cache(maxsize=8)
def _renderer(colors: MarkdownColors) -> BlockRenderer:
    return BlockRenderer(colors)


def renderer_for(app: App[object]) -> BlockRenderer:
    """The renderer in ``app``'s current theme (shared by every answer view)."""
    return _renderer(colors_from(app.theme_variables, app.current_theme.dark))
