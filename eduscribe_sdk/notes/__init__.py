"""Note generators: the offline one (always available) and an OpenAI-compatible LLM one.

Interface (shared by every processor):

    generate_notes(source: NoteSource, *, settings: Settings,
                   progress: Callable[[float], None] | None = None) -> dict[str, Any]

returns the SPEC's ``output_data`` fields: ``title, summary, key_points, glossary, quiz``
(only when asked), ``markdown``, ``language``, ``word_count``, ``generator``. The processor
adds ``transcript``/``subtitles`` for media and re-renders ``markdown`` if it adds sections.
"""

from .course import merge_course_notes
from .generate import generate_notes
from .language import detect_language
from .markdown import render_markdown
from .source import NoteSource

__all__ = ["NoteSource", "detect_language", "generate_notes", "merge_course_notes", "render_markdown"]
