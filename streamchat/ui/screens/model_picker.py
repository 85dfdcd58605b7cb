"""The model picker: the config file's profiles, and the models the current server lists.

The server's list (``GET /v1/models``) is fetched in the background while the
profiles are already shown; a server that does not list its models gets a
clear note, and any name typed in the filter can still be used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from streamchat.config.schema import Profile
from streamchat.safety import one_line

HELP = "type to filter, or a model name · enter switches · esc closes"
"""The keys, under the list."""


@dataclass(frozen=True)
class PickerChoice:
    """What was picked: a profile, or a model of the current server."""

    kind: Literal["profile", "model"]
    """Which of the two."""
    name: str
    """The profile's or the model's name."""
    listed: bool | None = True
    """For a model: False when it was typed and the server's list does not have it, None when the server's
    list could not be read (or had not come yet)."""


def models_problem(exc: BaseException) -> str:
    """Why the models could not be listed, as a note for the picker."""
    status = getattr(exc, "status_code", None)
    if status in (404, 405, 501):
        return f"This server does not list its models (GET /v1/models answered {status}): type a model's name."
    detail = one_line(str(getattr(exc, "message", None) or exc))[:120]
    return f"Could not list the server's models ({type(exc).__name__}: {detail}): type a model's name."


class ModelPicker(ModalScreen[PickerChoice | None]):
    """Pick a profile or a model; dismisses with a ``PickerChoice``, or None."""

    DEFAULT_CSS = """
    ModelPicker { align: center middle; }
    ModelPicker #picker-dialog {
        width: 80%; max-width: 100; height: 80%; padding: 0 1;
        background: $surface; border: thick $primary; border-title-style: bold;
    }
    ModelPicker #picker-list { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    ModelPicker #picker-note { height: auto; color: $text-muted; }
    ModelPicker #picker-help { height: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
    ]

    def __init__(self, profiles: tuple[Profile, ...], current_profile: str | None, current_model: str,
                 server: str, fetch: Callable[[], Awaitable[list[str]]]) -> None:
        super().__init__()
        self.profiles = profiles
        """The profiles to offer."""
        self.current_profile = current_profile
        """The profile in use (marked)."""
        self.current_model = current_model
        """The model in use (marked)."""
        self.server = server
        """The current server, for the heading of its models."""
        self.fetch = fetch
        """Fetches the server's model list."""
        self.models: list[str] | None = None
        """The server's models once fetched."""
        self.problem: str | None = None
        """Why they could not be fetched."""
        self.choices: list[PickerChoice | None] = []
        """What each row of the list picks (None for headings)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog") as dialog:
            dialog.border_title = "Profile and model"
            yield Input(placeholder="Filter, or type a model name…", id="picker-filter")
            yield OptionList(id="picker-list")
            yield Static("", id="picker-note", markup=False)
            yield Static(HELP, id="picker-help", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.fill()
        self.load_models()

    @property
    def typed(self) -> str:
        """The text in the filter."""
        return self.query_one(Input).value.strip()

    @work(exclusive=True, group="picker-models", exit_on_error=False)
    async def load_models(self) -> None:
        """Fetch the server's models, then show them."""
        try:
            self.models = await self.fetch()
        except Exception as exc:  # noqa: BLE001 - any failure is a note in the picker
            self.problem = models_problem(exc)
        self.fill()

    def _row(self, label: str, about: str, current: bool) -> Content:
        return Content.assemble(("● " if current else "  ", "$accent"), (one_line(label), "bold"),
                                (f"  {one_line(about)}" if about else "", "dim"))

    def fill(self) -> None:
        """Show the rows that match the filter, headings included."""
        wanted = self.typed.lower()
        options: list[Option] = []
        self.choices = []

        def add(option: Option, choice: PickerChoice | None) -> None:
            options.append(option)
            self.choices.append(choice)

        profiles = [p for p in self.profiles if wanted in p.name.lower() or wanted in p.describe().lower()]
        if profiles:
            add(Option(Content.styled("Profiles", "bold $text-muted"), disabled=True), None)
            for profile in profiles:
                add(Option(self._row(profile.name, profile.describe(), profile.name == self.current_profile)),
                    PickerChoice("profile", profile.name))
        models = [m for m in self.models or [] if wanted in m.lower()]
        add(Option(Content.styled(f"Models on {one_line(self.server)}", "bold $text-muted"), disabled=True), None)
        for model in models:
            add(Option(self._row(model, "", model == self.current_model)), PickerChoice("model", model))
        note = ""
        if self.models is None and self.problem is None:
            note = f"Asking {self.server} for its models…"
        elif self.problem is not None:
            note = self.problem
        elif not models:
            note = "No listed model matches." if self.models else "The server lists no models."
        if self.typed and self.typed not in (self.models or []):
            note += f"{' ' if note else ''}Enter uses {self.typed!r} as the model name (not listed by the server)."
        list_widget = self.query_one(OptionList)
        list_widget.set_options(options)
        best = self._best()
        if best is not None:
            list_widget.highlighted = best
        self.query_one("#picker-note", Static).update(note)

    @on(Input.Changed)
    def _filter_changed(self) -> None:
        self.fill()

    def action_move(self, step: int) -> None:
        """Move the cursor in the list (the filter keeps the focus)."""
        options = self.query_one(OptionList)
        if step < 0:
            options.action_cursor_up()
        else:
            options.action_cursor_down()

    def _best(self) -> int | None:
        """The row to highlight: an exact name match, else the first model, else the first row."""
        rows = [(i, c) for i, c in enumerate(self.choices) if c is not None]
        exact = [i for i, c in rows if c.name == self.typed]
        models = [i for i, c in rows if c.kind == "model"] if self.typed else []
        found = exact or models or [i for i, _ in rows]
        return found[0] if found else None

    @on(Input.Submitted)
    def _submitted(self) -> None:
        index = self.query_one(OptionList).highlighted
        choice = self.choices[index] if index is not None and index < len(self.choices) else None
        if choice is not None:
            self.dismiss(choice)
        elif self.typed:
            listed = None if self.models is None else self.typed in self.models
            self.dismiss(PickerChoice("model", self.typed, listed=listed))

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = self.choices[event.option_index]
        if choice is not None:
            self.dismiss(choice)
