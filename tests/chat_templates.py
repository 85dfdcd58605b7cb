"""Chat templates for tests, in the styles real GGUFs carry (written here, not copied from a model)."""

from __future__ import annotations

QWEN_STYLE = (
    "{%- if tools %}<|im_start|>system\n"
    "{% if messages[0].role == 'system' %}{{ messages[0].content }}\n\n{% endif %}"
    "# Tools\nYou may call functions. Their signatures:\n<tools>\n"
    "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}</tools>\n"
    "Write each call as a JSON object inside <tool_call></tool_call> tags:\n"
    "<tool_call>\n{\"name\": <name>, \"arguments\": <arguments>}\n</tool_call><|im_end|>\n"
    "{% elif messages[0].role == 'system' %}<|im_start|>system\n{{ messages[0].content }}<|im_end|>\n"
    "{% endif %}"
    "{% for m in messages %}"
    "{% if m.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ m.content }}\n</tool_response><|im_end|>\n"
    "{% elif m.role != 'system' %}<|im_start|>{{ m.role }}\n{{ m.content }}"
    "{% for call in m.tool_calls or [] %}\n<tool_call>\n"
    "{\"name\": \"{{ call.function.name }}\", \"arguments\": {{ call.function.arguments | tojson }}}\n</tool_call>"
    "{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""ChatML with tools described in the system turn and calls in ``<tool_call>`` tags (Qwen 2.5, Hermes)."""

LLAMA3_STYLE = (
    "{{ bos_token }}{% if tools is not none %}<|start_header_id|>system<|end_header_id|>\n\n"
    "Answer with a function call as {\"name\": function name, \"parameters\": dictionary of arguments}.\n"
    "{% for t in tools %}{{ t | tojson }}\n{% endfor %}<|eot_id|>{% endif %}"
    "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
"""Llama 3.x style: bare JSON calls with ``parameters``."""

MISTRAL_STRICT = (
    "{% for m in messages %}{% if m.tool_calls %}{% for c in m.tool_calls %}"
    "{% if c.id | length != 9 %}{{ raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}"
    "{% endif %}{% endfor %}{% endif %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    "{% if tools %}[TOOLS]{{ tools | tojson }}[/TOOLS]{% endif %}"
)
"""A template that refuses call ids it did not expect, as Mistral's do."""
