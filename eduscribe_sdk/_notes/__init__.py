"""Note generators: the offline one (always available) and an OpenAI-compatible LLM one.

Interface (shared by every processor):

    generate_notes(source: NoteSource, *, settings: Settings,
                   progress: Callable[[float], None] | None = None) -> dict[str, Any]

returns the SPEC's ``output_data`` fields: ``title, summary, key_points, glossary, quiz``
(only when asked), ``markdown``, ``language``, ``word_count``, ``generator``. The processor
adds ``transcript``/``subtitles`` for media and re-renders ``markdown`` if it adds sections.

Where things are:

* ``generate.py`` picks the generator and assembles the output; ``markdown.py`` renders it;
  ``source.py`` is the input; ``language.py`` detects languages and translates headings.
* ``llm.py``: the LLM generator. ``course.py``: the course summary merged from lecture notes.
* ``offline.py``: the offline generator, running one module per step:
  ``textprep.py`` (raw text to headings, paragraphs, list items), ``sentences.py`` and
  ``clauses.py`` (sentences, long ones cut at clauses), ``words.py`` (stop words, term lists),
  ``analysis.py`` and ``ranking.py`` (quotable sentences ranked by TextRank), ``summary.py``
  (summary and key points), ``terms.py`` and ``author_terms.py`` (key terms),
  ``definitions.py`` and ``glossary.py`` (the glossary), ``quiz.py`` (quiz questions).
"""

from .course import merge_course_notes
from .generate import generate_notes
from .language import detect_language
from .markdown import render_markdown
from .source import NoteSource

__all__ = ["NoteSource", "detect_language", "generate_notes", "merge_course_notes", "render_markdown"]
