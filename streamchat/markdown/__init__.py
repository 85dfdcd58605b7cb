"""Streaming Markdown, UI-free: a splitter that cuts an answer into blocks as it arrives."""

from streamchat.markdown.blocks import Block, BlockSplitter, Closed, Merged, Op, apply_op, split_blocks

__all__ = ["Block", "BlockSplitter", "Closed", "Merged", "Op", "apply_op", "split_blocks"]
