"""The answer view: a streamed Markdown answer kept as lines (Textual's Line API).

`view.AnswerView` (the widget) feeds `streamchat.markdown.BlockSplitter`'s blocks to
`lines.AnswerLines` (each block's rendered lines, at one width), which renders them with
`render.BlockRenderer` (Rich's Markdown, in the colours of `colors`).
"""

from streamchat.ui.answer.view import AnswerView

__all__ = ["AnswerView"]
