"""The embedded llama.cpp backend: a GGUF model run in this process.

``backend`` (the ``Backend``), ``model`` (finding, loading and sharing a
model), ``generation`` (one answer as chunks), ``template`` (the GGUF's chat
template), and tool calls: ``grammar``, ``tool_calls`` (the streaming parser),
``call_json``, ``tool_generation`` and ``tool_rounds`` (the guard rails).
"""
